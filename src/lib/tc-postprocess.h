/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Turning an assembled package root into an ostree OS tree: top-level layout, /etc in
 * /usr/etc, an empty /var, the kernel in /usr/lib/modules/$kver, os-release, and the
 * treefile's add-files, remove-files, units, default-target and machine-id settings. */
#pragma once

#include <gio/gio.h>

#include "tc-treefile.h"

G_BEGIN_DECLS

/* The top-level layout (bin -> usr/bin, ...), which scriptlets need; run before them. */
gboolean tc_postprocess_layout (const char *rootfs, TcTreefile *treefile, GError **error);

/* Makes usr/etc/passwd and group exist (with root) and adds the previous commit's entries
 * that are missing, so users created by scriptlets keep their ids across composes. */
gboolean tc_postprocess_prepare_passwd (const char *rootfs, const char *previous_passwd,
                                        const char *previous_group, GError **error);

/* The rest, after scriptlets. @version may be NULL. Files in @rootfs may be hardlinks into the package cache: this
 * never writes into an existing file, it replaces it. */
gboolean tc_postprocess_rootfs (const char *rootfs, TcTreefile *treefile, const char *version,
                                GCancellable *cancellable, GError **error);

G_END_DECLS
