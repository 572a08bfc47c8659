/*  gf_internal.h — helpers shared by the proto/ modules.  Not public API:
    nothing outside proto/ includes this file.
*/
#ifndef GF_INTERNAL_H_INCLUDED
#define GF_INTERNAL_H_INCLUDED

#include "gf_proto.h"
#include <jansson.h>

/*  gf_utf8.c ------------------------------------------------------------ */

/*  Decodes the code point at data[*pos] and advances *pos past it.
    Returns the code point, or -1 (and leaves *pos) if the bytes there
    are not valid UTF-8.  Requires *pos < size. */
int32_t gf_utf8_next (const char *data, size_t size, size_t *pos);

/*  True if valid UTF-8 data holds only white space (Unicode White_Space,
    plus zero-width space and BOM), or is empty. */
bool gf_utf8_is_blank (const char *data, size_t size);

/*  Returns how many bytes of valid UTF-8 data hold at most max_chars code
    points, never splitting a sequence. */
size_t gf_utf8_prefix (const char *data, size_t size, size_t max_chars);

/*  Returns how many leading bytes of data form complete UTF-8 sequences:
    a truncated sequence at the end is cut off.  For bounded buffers. */
size_t gf_utf8_trim (const char *data, size_t size);

/*  gf_pack.c ------------------------------------------------------------ */

/*  Packs a NUL-terminated string, or nil if s is NULL. */
void gf_pack_cstr (msgpack_packer *pk, const char *s);

/*  Packs a string key and, for the common head, `v` = GF_PROTO_VERSION
    and `type`: every encoder starts its map with gf_pack_version. */
void gf_pack_key (msgpack_packer *pk, const char *key);
void gf_pack_version (msgpack_packer *pk, const char *type);

/*  Packs a JSON value: integers stay integers, reals become float64,
    true/false/null become bool/nil, objects keep their key order.
    Returns 0, or -1 if the value nests deeper than max_depth. */
int gf_pack_json (msgpack_packer *pk, json_t *value, int max_depth);

/*  Packs a comma-separated list as an array of strings ("" packs []). */
void gf_pack_csv_array (msgpack_packer *pk, const char *list);

/*  Moves the buffer's bytes into a new frame and destroys the buffer. */
zframe_t *gf_pack_frame (msgpack_sbuffer *sbuf);

#endif
