#!/bin/sh
# Fails when an unsafe C string function appears in the project's sources
# (tracked files and new ones not yet committed).
set -u
cd "$(dirname "$0")/.."
pat='\b(sprintf|vsprintf|strcpy|strncpy|strcat|strncat|gets|strtok|stpcpy|wcscpy)[[:space:]]*\('
if grep -nE "$pat" $(git ls-files --cached --others --exclude-standard '*.c' '*.h' '*.cu' '*.cuh' 2>/dev/null || find . -name '*.[ch]') 2>/dev/null; then
    echo "check_banned: unsafe string functions found (use snprintf, str_copy, strbuf, strtok_r)" >&2
    exit 1
fi
echo "check_banned: no unsafe string functions"
