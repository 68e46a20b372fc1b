/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Treefiles: rpm-ostree style YAML/JSON compose manifests, flattened (includes, variables,
 * conditions and per-arch keys resolved) into one JSON object and validated. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _TcTreefile TcTreefile;

void tc_treefile_free (TcTreefile *treefile);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcTreefile, tc_treefile_free)

/* Loads @path (YAML or JSON) and everything it includes, for @basearch (e.g. "x86_64"),
 * and flattens it. Malformed input, an unknown key (any key neither treectl nor rpm-ostree
 * knows), an include loop, a missing include or an unknown variable is an error naming the
 * file (and line where known). */
TcTreefile *tc_treefile_load (const char *path, const char *basearch, GError **error);

/* The flattened treefile. Keys use rpm-ostree's canonical (dash) spelling. */
JsonObject *tc_treefile_get_root (TcTreefile *treefile);

/* The flattened treefile as JSON text (what `compose tree --print-only` prints). */
char *tc_treefile_to_json (TcTreefile *treefile, gboolean pretty);

/* For a real compose: fails naming the file and key of the first rpm-ostree key that treectl
 * does not implement yet. */
gboolean tc_treefile_check_implemented (TcTreefile *treefile, GError **error);

/* Directory of the root treefile: repo files, add-files sources and postprocess-script are
 * relative to the file that names them; see tc_treefile_get_file_dir(). */
const char *tc_treefile_get_dir (TcTreefile *treefile);

/* Real directory of the treefile that @key's value came from (the first file to set it, in
 * include order), or NULL when @key is not set. The paths of postprocess-script, add-files
 * and check-passwd/check-groups files are already absolute in the flattened treefile. */
const char *tc_treefile_get_file_dir (TcTreefile *treefile, const char *key);

/* The variables that applied (including basearch and releasever). As in rpm-ostree they are
 * not part of the flattened treefile: their values are already substituted. */
JsonObject *tc_treefile_get_variables (TcTreefile *treefile);

/* Convenience accessors on the flattened root. */
const char *tc_treefile_get_string (TcTreefile *treefile, const char *key);
gboolean tc_treefile_get_bool (TcTreefile *treefile, const char *key, gboolean default_value);
/* A list of strings (empty when unset); for "packages"-like keys each element is also split on
 * whitespace: packages is split (and sorted) when loading, as rpm-ostree does, keeping
 * single-quoted version queries like 'podman >= 4.1' whole; exclude-packages here. */
char **tc_treefile_get_strv (TcTreefile *treefile, const char *key);

/* Absolute paths of every file the treefile depends on besides the treefiles themselves
 * (postprocess-script, add-files sources, check-passwd/check-groups files), in a stable
 * order: the compose input hash covers their content. */
GPtrArray *tc_treefile_get_external_files (TcTreefile *treefile);

G_END_DECLS
