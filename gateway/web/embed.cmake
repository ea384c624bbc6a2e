# Turns page.html into a C array (cmake -DIN=... -DOUT=... -P embed.cmake),
# so the page is edited as HTML and served from the binary, with no file to
# install and nothing to fetch from the network.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" body "${body}")
file(WRITE ${OUT} "/* Generated from gateway/web/page.html by embed.cmake. */\n#include <stddef.h>\n"
     "const char ef_web_page[] = {\n${body}0};\nconst size_t ef_web_page_len = ${len};\n")
