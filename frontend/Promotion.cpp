// Promotion.cpp — being written.
