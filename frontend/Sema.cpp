// Sema.cpp — being written.
