// AST.cpp — being written.
