// Bind.cpp — being written.
