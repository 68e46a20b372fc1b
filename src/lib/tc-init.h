/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Creating a sysroot from an empty directory, as an image builder does. */
#pragma once

#include <ostree.h>

G_BEGIN_DECLS

typedef struct
{
  const char *osname;
  const char *refspec;    /* REMOTE:REF */
  const char *url;        /* remote URL */
  GBytes *gpg_key;        /* public key(s) to trust for the remote, or NULL */
  gboolean no_gpg_verify; /* required when gpg_key is NULL */
  char **kargs;           /* kernel arguments of the first deployment */
} TcInitOptions;

gboolean tc_init_sysroot (const char *path, const TcInitOptions *opts, GVariant **out_result,
                          GCancellable *cancellable, GError **error);

G_END_DECLS
