/* UTF-8 validation shared by the text decoder and the JSON encoder: one
 * rule, so that text the decoder let through is never altered by the
 * encoder. Pure, no allocation. */
#ifndef EF_COMMON_UTF8_H
#define EF_COMMON_UTF8_H

#include <stddef.h>

/* Bytes of U+FFFD, the replacement character, in UTF-8. */
#define EF_UTF8_REPLACEMENT "\xEF\xBF\xBD"

/* Length (1..4) of the well-formed UTF-8 sequence at S (N bytes left), or 0
 * when S does not start one: a stray continuation byte, a truncated
 * sequence, an overlong form, a surrogate or a code point past U+10FFFF. */
size_t ef_utf8_seq(const unsigned char *s, size_t n);

#endif
