// Verifier.cpp — being written.
