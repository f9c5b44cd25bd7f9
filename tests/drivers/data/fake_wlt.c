/* A stand-in for a vendor's WLT photo library (the real ones are licensed binaries that
 * cannot ship or run here): same signature, writes a known 102x126 BGR pattern, returns 1,
 * or 0 when the "WLT" does not start with the bytes a test marks as undecodable. */
int unpack(const char *wlt, char *out, int mode) {
    if (wlt[0] == 'X') return 0;
    for (int y = 0; y < 126; y++)
        for (int x = 0; x < 102; x++) {
            char *px = out + (y * 102 + x) * 3;
            px[0] = (char)(mode & 0xff);   /* B */
            px[1] = (char)y;               /* G */
            px[2] = (char)x;               /* R */
        }
    return 1;
}
