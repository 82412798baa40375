// Source.cpp — being written.
