// IRParser.cpp — being written.
