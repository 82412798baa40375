// Printer.cpp — being written.
