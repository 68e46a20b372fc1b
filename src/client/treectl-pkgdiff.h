/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Printing package differences (db diff, upgrade --preview, status -v). */
#pragma once

#include "tc-pkgdiff.h"

G_BEGIN_DECLS

/* "Upgraded:", "Downgraded:", "Removed:", "Added:" sections, each line prefixed by @indent. */
void treectl_print_pkgdiff (const TcPkgDiff *diff, const char *indent);

/* "2 upgraded, 1 added" (or "no changes"). */
char *treectl_pkgdiff_summary (const TcPkgDiff *diff);

/* The repository of the sysroot at @sysroot_path, opened in-process. */
OstreeRepo *treectl_open_sysroot_repo (const char *sysroot_path, GCancellable *cancellable,
                                       GError **error);

/* The package difference between commits @from and @to of @repo. */
TcPkgDiff *treectl_pkgdiff_for_commits (OstreeRepo *repo, const char *from, const char *to,
                                        GCancellable *cancellable, GError **error);

G_END_DECLS
