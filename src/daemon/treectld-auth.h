/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Who may change the system: polkit where it runs, otherwise uid 0 only. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The Unix uid of the method's caller (bus or peer connection). */
gboolean treectld_auth_get_caller_uid (GDBusMethodInvocation *invocation, uid_t *out_uid,
                                       GError **error);

/* Checks that the caller may perform @action (the suffix of org.treectl.Treectl1.ACTION). */
gboolean treectld_auth_check (GDBusMethodInvocation *invocation, const char *action,
                              GError **error);

G_END_DECLS
