// Lexer.cpp — being written.
