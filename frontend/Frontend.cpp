// Frontend.cpp — being written.
