// Interpreter.cpp — being written.
