// TypeRules.cpp — being written.
