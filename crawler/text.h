/*
 * text.h — turning bytes from the web into clean UTF-8 plain text: charset
 * sniffing and conversion, invalid UTF-8 repair, HTML entity decoding, tag
 * stripping and whitespace normalisation. Used by the feed and HTML parsers.
 *
 * Every function here is pure (no global state, no I/O) and never fails on bad
 * input: what cannot be decoded becomes U+FFFD.
 */
#ifndef FINSENT_TEXT_H
#define FINSENT_TEXT_H

#include "common/strbuf.h"

#include <stddef.h>

/* Returns the charset a document declares for itself, or NULL: a byte-order
 * mark ("utf-8", "utf-16le", "utf-16be"), else the XML declaration's encoding,
 * else (when html is non-zero) a <meta charset=...> or <meta http-equiv
 * content="...; charset=..."> in the first 4 KiB (quotes ' or " or none).
 * The result is lowercase; the caller frees it. */
char *text_sniff_charset(const char *body, size_t len, int html);

/* Appends to out the UTF-8 form of in (len bytes) read in `charset`. charset
 * NULL, "utf-8" or a name iconv does not know means UTF-8. A BOM is dropped.
 * The result is always valid UTF-8 (see text_utf8_repair). Returns 0 when the
 * charset was used as given, 1 when it was unknown and UTF-8 was assumed. */
int text_to_utf8(struct strbuf *out, const char *in, size_t len, const char *charset);

/* Decodes a whole fetched document into UTF-8 (appended to out), choosing the
 * charset as browsers do: a byte-order mark, else http_charset (the HTTP
 * Content-Type charset; ignored when NULL, empty or unknown to iconv), else
 * what the document declares (text_sniff_charset; <meta> only when html is
 * non-zero), else UTF-8. */
void text_decode_document(struct strbuf *out, const char *body, size_t len,
                          const char *http_charset, int html);

/* Appends in to out, replacing every invalid UTF-8 sequence (bad lead bytes,
 * truncated or overlong sequences, surrogates, > U+10FFFF) by U+FFFD and every
 * NUL or C0 control other than tab, LF and CR by a space (XML 1.0 forbids them). */
void text_utf8_repair(struct strbuf *out, const char *in, size_t len);

/* 1 when s (len bytes) is valid UTF-8, else 0. */
int text_utf8_valid(const char *s, size_t len);

/* Appends s with HTML character references decoded: the HTML 4 named entities
 * (&amp; &nbsp; &eacute; ...), &apos;, and decimal / hex numeric references
 * (invalid code points become U+FFFD). Unknown or unterminated references are
 * kept as they are. */
void text_decode_entities(struct strbuf *out, const char *s, size_t len);

/* Collapses each run of whitespace (ASCII, NBSP, the U+2000 spaces, U+3000,
 * zero-width no-break space...) into one ASCII space and trims both ends, in
 * place. */
void text_normalize_ws(struct strbuf *sb);

/* Same on a C string, in place. Returns s. */
char *text_normalize_ws_str(char *s);

/* The length text_normalize_ws would leave, measured piece by piece: measure
 * each piece of a text (text_ws_measure) and join the measures in order
 * (text_ws_join); text_ws_normalized_len() of the joined measure is that of
 * the whole text normalised. A tree of texts is so measured in one pass
 * (pieces must not split a character). */
struct text_ws_len {
    size_t bytes; /* bytes other than whitespace */
    size_t gaps;  /* whitespace runs between such bytes */
    int lead;     /* starts with whitespace (or is only whitespace) */
    int trail;    /* ends with whitespace */
};
void text_ws_measure(const char *s, size_t len, struct text_ws_len *out);
void text_ws_join(struct text_ws_len *a, const struct text_ws_len *b);
size_t text_ws_normalized_len(const struct text_ws_len *m);

/* Plain text of an HTML fragment (a feed description, an escaped content):
 * tags removed (block tags and <br> become spaces), the content of script,
 * style, and comments dropped, entities decoded, whitespace normalised.
 * A '<' that does not start a tag is kept. Caller frees the result. */
char *text_html_to_text(const char *html, size_t len);

/* Appends the UTF-8 encoding of code point cp (U+FFFD when invalid). */
void text_append_utf8(struct strbuf *out, unsigned cp);

/* Lowercases ASCII, Latin-1, Greek and Cyrillic capitals in a UTF-8 string,
 * in place (enough for dedupe keys; not full Unicode case folding). */
void text_casefold(char *s);

#endif
