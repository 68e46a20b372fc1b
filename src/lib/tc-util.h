/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Small helpers shared by every part of libtreectl: error throwing and test pause points. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Exit code for "nothing changed", as rpm-ostree's --unchanged-exit-77. */
#define TC_EXIT_UNCHANGED 77

gboolean tc_throw (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
gboolean tc_throw_errno_prefix (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* A named pause point for tests: when TREECTL_TEST_PAUSE names @point, sleep there for
 * TREECTL_TEST_PAUSE_SECONDS (default 30) so a test can kill the process mid-operation. */
void tc_test_pause (const char *point);

/* Splits "remote:ref" (or "ref", leaving *out_remote NULL). Rejects empty parts. */
gboolean tc_parse_refspec (const char *refspec, char **out_remote, char **out_ref, GError **error);

/* Whether @s looks like a (possibly abbreviated, >= 8 digits) SHA-256 hex checksum. */
gboolean tc_is_checksum_prefix (const char *s);

G_END_DECLS
