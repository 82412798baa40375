// Parser.cpp — being written.
