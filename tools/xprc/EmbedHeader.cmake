# tools/xprc/EmbedHeader.cmake — writes IN's text into OUT as `kXprRtHeader`, a C++ raw string.
file(READ ${IN} text)
file(WRITE ${OUT} "// generated from ${IN}; do not edit\nstatic const char kXprRtHeader[] = R\"xprrt(${text})xprrt\";\n")
