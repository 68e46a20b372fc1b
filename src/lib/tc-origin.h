/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The origin of a deployment: where it came from and what was asked of it. One type parses
 * and writes the origin keyfile ostree keeps next to each deployment. */
#pragma once

#include <ostree.h>

G_BEGIN_DECLS

typedef struct
{
  char *remote;          /* NULL for a local ref */
  char *ref;
  char *override_commit; /* pinned commit, or NULL */
  char **packages;       /* layered packages requested ([packages] requested), never NULL */
  char **local_packages; /* NEVRAs of layered local RPMs ([packages] requested-local) */
  char **override_remove; /* base packages removed by name ([overrides] remove) */
  char **override_replace_local; /* NEVRAs of local RPMs replacing base packages
                                  * ([overrides] replace-local) */
  GKeyFile *keyfile;     /* the parsed file, so groups treectl does not know survive */
} TcOrigin;

void tc_origin_free (TcOrigin *origin);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcOrigin, tc_origin_free)

/* Parses @keyfile (which is copied). @name names the file in errors. */
TcOrigin *tc_origin_new_from_keyfile (GKeyFile *keyfile, const char *name, GError **error);
TcOrigin *tc_origin_new_from_deployment (OstreeDeployment *deployment, GError **error);
TcOrigin *tc_origin_new_from_refspec (const char *refspec, GError **error);

/* "remote:ref" or "ref". */
char *tc_origin_get_refspec (TcOrigin *origin);
gboolean tc_origin_set_refspec (TcOrigin *origin, const char *refspec, GError **error);
void tc_origin_set_override_commit (TcOrigin *origin, const char *checksum);

/* Whether packages are layered or base packages overridden: the deployed commit is then a
 * local layer over the ref's commit, and the origin records the ref as baserefspec. */
gboolean tc_origin_has_packages (TcOrigin *origin);
void tc_origin_set_packages (TcOrigin *origin, const char *const *packages);
void tc_origin_set_local_packages (TcOrigin *origin, const char *const *nevras);
void tc_origin_set_override_remove (TcOrigin *origin, const char *const *names);
void tc_origin_set_override_replace_local (TcOrigin *origin, const char *const *nevras);

/* A new keyfile reflecting the model, with transient state removed. */
GKeyFile *tc_origin_to_keyfile (TcOrigin *origin);

G_END_DECLS
