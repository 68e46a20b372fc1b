/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Unit tests for tc-treefile.c: includes and rpm-ostree's merge rules, underscore spellings,
 * variables, conditions, per-arch keys, external files, and every bad input's message. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "tc-treefile.h"

typedef struct
{
  char *dir;
} Fixture;

static void
remove_tree (const char *path)
{
  struct stat st;
  if (lstat (path, &st) < 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-treefile-XXXXXX", &error);
  g_assert_no_error (error);
  /* The loader reports real paths. */
  fx->dir = realpath (dir, NULL);
  g_assert_nonnull (fx->dir);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  remove_tree (fx->dir);
  g_free (fx->dir);
}

static char *
path_in (Fixture *fx, const char *name)
{
  return g_build_filename (fx->dir, name, NULL);
}

static void
write_file (Fixture *fx, const char *name, const char *contents)
{
  g_autofree char *path = path_in (fx, name);
  g_autofree char *parent = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
make_symlink (Fixture *fx, const char *target, const char *name)
{
  g_autofree char *path = path_in (fx, name);
  g_autofree char *parent = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_assert_cmpint (symlink (target, path), ==, 0);
}

static TcTreefile *
load_ok (Fixture *fx, const char *name, const char *basearch)
{
  g_autofree char *path = path_in (fx, name);
  g_autoptr (GError) error = NULL;
  TcTreefile *tf = tc_treefile_load (path, basearch, &error);
  g_assert_no_error (error);
  g_assert_nonnull (tf);
  return tf;
}

static void
assert_message (GError *error, const char *needle)
{
  g_assert_nonnull (error);
  if (strstr (error->message, needle) == NULL)
    g_error ("message \"%s\" lacks \"%s\"", error->message, needle);
}

/* Loading @name fails with a message containing each of the NULL-terminated needles. */
static void
assert_load_fails (Fixture *fx, const char *name, const char *basearch, ...)
{
  g_autofree char *path = path_in (fx, name);
  g_autoptr (GError) error = NULL;
  g_autoptr (TcTreefile) tf = tc_treefile_load (path, basearch, &error);
  g_assert_null (tf);
  va_list args;
  va_start (args, basearch);
  const char *needle;
  while ((needle = va_arg (args, const char *)) != NULL)
    assert_message (error, needle);
  va_end (args);
}

static char *
joined (TcTreefile *tf, const char *key)
{
  g_auto (GStrv) items = tc_treefile_get_strv (tf, key);
  return g_strjoinv (",", items);
}

static gboolean
has_item (TcTreefile *tf, const char *key, const char *value)
{
  g_auto (GStrv) items = tc_treefile_get_strv (tf, key);
  return g_strv_contains ((const char *const *)items, value);
}

static const char *
member_string (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);
  g_assert_nonnull (node);
  return json_node_get_string (node);
}

static void
test_merge_scalars (Fixture *fx, gconstpointer data)
{
  write_file (fx, "root.yaml", "include: [a.yaml, b.yaml]\nref: root/ref\n");
  write_file (fx, "a.yaml", "include: base.yaml\nref: a/ref\ngpg-key: KEY-A\n");
  write_file (fx, "b.yaml", "gpg-key: KEY-B\ndefault-target: b.target\nrecommends: true\n");
  write_file (fx, "base.yaml", "recommends: false\ndocumentation: false\nref: base/ref\n");
  g_autoptr (TcTreefile) tf = load_ok (fx, "root.yaml", "x86_64");
  /* The including file wins; between sibling includes the earlier one (and what it includes)
   * wins, as in rpm-ostree. */
  g_assert_cmpstr (tc_treefile_get_string (tf, "ref"), ==, "root/ref");
  g_assert_cmpstr (tc_treefile_get_string (tf, "gpg-key"), ==, "KEY-A");
  g_assert_cmpstr (tc_treefile_get_string (tf, "default-target"), ==, "b.target");
  g_assert_false (tc_treefile_get_bool (tf, "recommends", TRUE));
  g_assert_false (tc_treefile_get_bool (tf, "documentation", TRUE));
  g_assert_true (tc_treefile_get_bool (tf, "tmp-is-dir", TRUE));
  g_assert_cmpstr (tc_treefile_get_string (tf, "basearch"), ==, "x86_64");
  g_assert_cmpstr (tc_treefile_get_file_dir (tf, "gpg-key"), ==, fx->dir);
}

static void
test_merge_lists (Fixture *fx, gconstpointer data)
{
  write_file (fx, "root.yaml",
              "include: [a.yaml, b.yaml]\nrepos: [r-root]\npostprocess: ['echo root']\n");
  write_file (fx, "a.yaml", "include: base.yaml\nrepos: [r-a]\n");
  write_file (fx, "b.yaml", "repos: [r-b]\npostprocess: ['echo b']\n");
  write_file (fx, "base.yaml", "repos: [r-base1, r-base2]\npostprocess: ['echo base']\n");
  g_autoptr (TcTreefile) tf = load_ok (fx, "root.yaml", "x86_64");
  /* Included content first; rpm-ostree puts a later include's entries before an earlier's. */
  g_autofree char *repos = joined (tf, "repos");
  g_assert_cmpstr (repos, ==, "r-b,r-base1,r-base2,r-a,r-root");
  g_autofree char *scripts = joined (tf, "postprocess");
  g_assert_cmpstr (scripts, ==, "echo b,echo base,echo root");
}

static void
test_merge_maps_and_sets (Fixture *fx, gconstpointer data)
{
  write_file (fx, "root.yaml",
              "include: inc.yaml\n"
              "add-commit-metadata:\n  k1: root\n  k3: 3\n"
              "packages:\n  - zsh bash\n  - \"'podman >= 4.1'\"\n"
              "ignore-removed-users: [root]\n");
  write_file (fx, "inc.yaml",
              "add-commit-metadata:\n  k1: inc\n  k2: {nested: true}\n"
              "packages: [bash, vim]\nignore-removed-users: [adm, root]\n");
  g_autoptr (TcTreefile) tf = load_ok (fx, "root.yaml", "x86_64");
  JsonObject *root = tc_treefile_get_root (tf);
  JsonObject *meta = json_object_get_object_member (root, "add-commit-metadata");
  g_assert_cmpstr (member_string (meta, "k1"), ==, "root");
  g_assert_cmpint (json_object_get_int_member (meta, "k3"), ==, 3);
  g_assert_true (
      json_object_get_boolean_member (json_object_get_object_member (meta, "k2"), "nested"));
  /* packages is a split, deduplicated, sorted set; a quoted version query stays whole. */
  g_autofree char *packages = joined (tf, "packages");
  g_assert_cmpstr (packages, ==, "bash,podman >= 4.1,vim,zsh");
  g_autofree char *users = joined (tf, "ignore-removed-users");
  g_assert_cmpstr (users, ==, "adm,root");
}

static void
test_underscore_aliases (Fixture *fx, gconstpointer data)
{
  write_file (fx, "root.yaml",
              "include: inc.yaml\nref: r\netc_group_members: [wheel]\ngpg_key: ABC\n"
              "automatic_version_prefix: \"38\"\ntmp_is_dir: true\n");
  write_file (fx, "inc.yaml",
              "boot_location: modules\ndefault_target: graphical.target\n"
              "etc-group-members: [adm]\nexclude_packages: [foo]\n");
  g_autoptr (TcTreefile) tf = load_ok (fx, "root.yaml", "x86_64");
  g_assert_cmpstr (tc_treefile_get_string (tf, "boot-location"), ==, "modules");
  g_assert_cmpstr (tc_treefile_get_string (tf, "default-target"), ==, "graphical.target");
  g_assert_cmpstr (tc_treefile_get_string (tf, "gpg-key"), ==, "ABC");
  g_assert_cmpstr (tc_treefile_get_string (tf, "automatic-version-prefix"), ==, "38");
  g_assert_true (tc_treefile_get_bool (tf, "tmp-is-dir", FALSE));
  g_autofree char *members = joined (tf, "etc-group-members");
  g_assert_cmpstr (members, ==, "adm,wheel");
  g_assert_true (has_item (tf, "exclude-packages", "foo"));
  g_autofree char *json = tc_treefile_to_json (tf, FALSE);
  const char *const written[]
      = { "etc_group", "gpg_", "automatic_", "tmp_", "boot_", "default_", "exclude_" };
  for (guint i = 0; i < G_N_ELEMENTS (written); i++)
    g_assert_null (strstr (json, written[i]));
}

static void
test_variables (Fixture *fx, gconstpointer data)
{
  write_file (fx, "root.yaml",
              "variables:\n  stream: stable\n  n: 3\n  flag: true\n"
              "releasever: 40\n"
              "ref: os/${basearch}/${stream}\n"
              "include: inc.yaml\n"
              "postprocess:\n  - echo ${HOME} ${undefined_in_scripts}\n");
  write_file (fx, "inc.yaml",
              "variables:\n  stream: ignored\n  extra: x\n"
              "releasever: 39\n"
              "add-commit-metadata:\n  s: ${extra}-${releasever}\n  n: ${n}/${flag}\n"
              "  shell: ${not a variable}\n"
              "mutate-os-release: ${releasever}\n"
              "automatic-version-prefix: ${releasever}.<date:%Y%m%d>\n");
  g_autoptr (TcTreefile) tf = load_ok (fx, "root.yaml", "aarch64");
  g_assert_cmpstr (tc_treefile_get_string (tf, "ref"), ==, "os/aarch64/stable");
  g_assert_cmpstr (tc_treefile_get_string (tf, "mutate-os-release"), ==, "40");
  g_assert_cmpstr (tc_treefile_get_string (tf, "releasever"), ==, "40");
  g_assert_cmpstr (tc_treefile_get_string (tf, "automatic-version-prefix"), ==, "40.<date:%Y%m%d>");
  JsonObject *meta
      = json_object_get_object_member (tc_treefile_get_root (tf), "add-commit-metadata");
  g_assert_cmpstr (member_string (meta, "s"), ==, "x-40");
  g_assert_cmpstr (member_string (meta, "n"), ==, "3/true");
  g_assert_cmpstr (member_string (meta, "shell"), ==, "${not a variable}");
  /* Scripts are never substituted. */
  g_assert_true (has_item (tf, "postprocess", "echo ${HOME} ${undefined_in_scripts}"));
  JsonObject *vars = tc_treefile_get_variables (tf);
  g_assert_cmpstr (member_string (vars, "stream"), ==, "stable");
  g_assert_cmpstr (member_string (vars, "extra"), ==, "x");
  g_assert_cmpstr (member_string (vars, "basearch"), ==, "aarch64");
  g_assert_cmpint (json_object_get_int_member (vars, "releasever"), ==, 40);
  /* rpm-ostree does not print variables: they are substituted already. */
  g_assert_false (json_object_has_member (tc_treefile_get_root (tf), "variables"));
}

static void
test_conditional_include (Fixture *fx, gconstpointer data)
{
  write_file (fx, "root.yaml",
              "variables:\n  prod: false\n  level: 5\n  name: abc\n"
              "releasever: 40\n"
              "include: [defs.yaml, user.yaml]\n"
              "conditional-include:\n"
              "  - if: prod == false\n    include: prod-false.yaml\n"
              "  - if: prod\n    include: prod.yaml\n"
              "  - if: level < 10\n    include: level-lt.yaml\n"
              "  - if: level >= 6\n    include: level-ge.yaml\n"
              "  - if: name != \"xyz\"\n    include: [ne1.yaml, ne2.yaml]\n"
              "  - if: [releasever >= 40, basearch == \"x86_64\"]\n    include: all.yaml\n"
              "  - if: [releasever >= 40, basearch == \"s390x\"]\n    include: none.yaml\n"
              "  - if: level == 5\n    include:\n      packages: [inline]\n"
              "      postprocess: ['echo inline']\n");
  write_file (fx, "defs.yaml", "variables:\n  feature: true\n");
  write_file (fx, "user.yaml",
              "conditional-include:\n  - if: feature == true\n    include: feature.yaml\n");
  const char *const included[] = { "prod-false", "level-lt", "ne1", "ne2", "all", "feature", NULL };
  for (guint i = 0; included[i]; i++)
    {
      g_autofree char *name = g_strconcat (included[i], ".yaml", NULL);
      g_autofree char *contents = g_strdup_printf ("packages: [%s]\n", included[i]);
      write_file (fx, name, contents);
    }
  g_autoptr (TcTreefile) tf = load_ok (fx, "root.yaml", "x86_64");
  g_autofree char *packages = joined (tf, "packages");
  /* Files of false conditions are never read (none of them exist); "feature" comes from an
   * earlier include, so it is known to user.yaml's conditions but not yet to root.yaml's. */
  g_assert_cmpstr (packages, ==, "all,feature,inline,level-lt,ne1,ne2,prod-false");
  g_assert_true (has_item (tf, "postprocess", "echo inline"));
}

static void
test_conditional_include_errors (Fixture *fx, gconstpointer data)
{
  static const struct
  {
    const char *condition;
    const char *message;
  } cases[] = {
    { "missing == 1", "root.yaml:5: conditional-include: undefined variable \"missing\"" },
    { "level == \"5\"", "variable \"level\" is a number, compared with a string" },
    { "name < \"b\"", "only numbers can be ordered" },
    { "name", "variable \"name\" is a string, not a boolean" },
    { "level =~ 5", "invalid condition \"level =~ 5\"" },
    { "level == five", "invalid condition \"level == five\"" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *contents
          = g_strdup_printf ("variables: {level: 5, name: abc}\nconditional-include:\n"
                             "  - if: [level == 5]\n    include: [ok.yaml]\n"
                             "  - if: '%s'\n    include: x.yaml\n",
                             cases[i].condition);
      write_file (fx, "root.yaml", contents);
      write_file (fx, "ok.yaml", "ref: ok\n");
      assert_load_fails (fx, "root.yaml", "x86_64", "root.yaml:", cases[i].message, NULL);
    }
}

static void
test_arch_include (Fixture *fx, gconstpointer data)
{
  write_file (fx, "root.yaml",
              "ref: r\narch-include:\n  x86_64: x86.yaml\n  s390x: [s390x.yaml, absent.yaml]\n");
  write_file (fx, "x86.yaml", "packages: [x86-only]\n");
  write_file (fx, "s390x.yaml", "packages: [s390x-only]\n");
  g_autoptr (TcTreefile) x86 = load_ok (fx, "root.yaml", "x86_64");
  g_assert_true (has_item (x86, "packages", "x86-only"));
  g_assert_false (has_item (x86, "packages", "s390x-only"));
  g_autoptr (TcTreefile) arm = load_ok (fx, "root.yaml", "aarch64");
  g_autofree char *arm_packages = joined (arm, "packages");
  g_assert_cmpstr (arm_packages, ==, "");
  assert_load_fails (fx, "root.yaml", "s390x", "root.yaml:4: include \"absent.yaml\"",
                     "absent.yaml: No such file or directory", NULL);
}

static void
test_packages_arch (Fixture *fx, gconstpointer data)
{
  write_file (fx, "root.yaml",
              "include: inc.yaml\npackages: [common]\npackages-x86_64: [grub2 shim]\n"
              "packages-aarch64: [grub2-efi-aa64]\n");
  write_file (fx, "inc.yaml", "packages_s390x: [zipl]\npackages-x86_64: [microcode_ctl]\n");
  g_autoptr (TcTreefile) x86 = load_ok (fx, "root.yaml", "x86_64");
  g_autofree char *x86_packages = joined (x86, "packages");
  g_assert_cmpstr (x86_packages, ==, "common,grub2,microcode_ctl,shim");
  g_autoptr (TcTreefile) s390x = load_ok (fx, "root.yaml", "s390x");
  g_autofree char *s390x_packages = joined (s390x, "packages");
  g_assert_cmpstr (s390x_packages, ==, "common,zipl");
  g_autofree char *json = tc_treefile_to_json (x86, FALSE);
  g_assert_null (strstr (json, "packages-"));
  /* A packages-$arch of another architecture is still checked. */
  write_file (fx, "root.yaml", "ref: r\npackages-ppc64le: grub2\n");
  assert_load_fails (fx, "root.yaml", "x86_64",
                     "root.yaml:2: key \"packages-ppc64le\": expected a list of strings, got a "
                     "string",
                     NULL);
}

static void
test_symlinked_include (Fixture *fx, gconstpointer data)
{
  write_file (fx, "shared/common.yaml",
              "include: sub.yaml\ncheck-passwd: {type: file, filename: passwd}\n");
  write_file (fx, "shared/sub.yaml", "packages: [from-shared-sub]\n");
  write_file (fx, "shared/passwd", "root:x:0:0:root:/root:/bin/bash\n");
  make_symlink (fx, "../shared/common.yaml", "variant/common.yaml");
  write_file (fx, "variant/root.yaml", "ref: r\ninclude: common.yaml\n");
  /* common.yaml's includes and files are found next to the real file, not the link. */
  g_autoptr (TcTreefile) tf = load_ok (fx, "variant/root.yaml", "x86_64");
  g_assert_true (has_item (tf, "packages", "from-shared-sub"));
  g_autofree char *passwd = path_in (fx, "shared/passwd");
  JsonObject *check = json_object_get_object_member (tc_treefile_get_root (tf), "check-passwd");
  g_assert_cmpstr (member_string (check, "filename"), ==, passwd);
}

static void
test_json_and_detection (Fixture *fx, gconstpointer data)
{
  write_file (fx, "root.json",
              "{\n  \"ref\": \"json/ref\",\n  \"include\": \"base.yaml\",\n"
              "  \"packages\": [\"a\", \"b c\"],\n  \"gpg_key\": \"K\"\n}\n");
  write_file (fx, "base.yaml", "packages: [base]\nrecommends: false\n");
  g_autoptr (TcTreefile) tf = load_ok (fx, "root.json", "x86_64");
  g_assert_cmpstr (tc_treefile_get_string (tf, "ref"), ==, "json/ref");
  g_assert_cmpstr (tc_treefile_get_string (tf, "gpg-key"), ==, "K");
  g_autofree char *packages = joined (tf, "packages");
  g_assert_cmpstr (packages, ==, "a,b,base,c");
  /* Without an extension, the content decides. */
  write_file (fx, "manifest", "{\"ref\": \"detected\"}\n");
  g_autoptr (TcTreefile) detected = load_ok (fx, "manifest", "x86_64");
  g_assert_cmpstr (tc_treefile_get_string (detected, "ref"), ==, "detected");
  write_file (fx, "manifest2", "ref: yaml-detected\n");
  g_autoptr (TcTreefile) yaml = load_ok (fx, "manifest2", "x86_64");
  g_assert_cmpstr (tc_treefile_get_string (yaml, "ref"), ==, "yaml-detected");
  /* An empty YAML file is an empty treefile. */
  write_file (fx, "empty.yaml", "");
  write_file (fx, "with-empty.yaml", "ref: r\ninclude: empty.yaml\n");
  g_autoptr (TcTreefile) with_empty = load_ok (fx, "with-empty.yaml", "x86_64");
  g_assert_cmpstr (tc_treefile_get_string (with_empty, "ref"), ==, "r");
}

static void
test_external_files (Fixture *fx, gconstpointer data)
{
  write_file (fx, "root.yaml",
              "ref: r\ninclude: sub/inc.yaml\npostprocess-script: post.sh\n"
              "add-files: [[motd, /etc/motd]]\n");
  write_file (fx, "sub/inc.yaml",
              "add-files: [[conf, /usr/lib/x.conf], [motd, /usr/share/motd]]\n"
              "check-passwd: {type: file, filename: passwd}\ncheck-groups: {type: previous}\n"
              "postprocess-script: ignored.sh\n");
  write_file (fx, "post.sh", "#!/bin/sh\n");
  write_file (fx, "sub/ignored.sh", "#!/bin/sh\n");
  write_file (fx, "motd", "hi\n");
  write_file (fx, "sub/conf", "x\n");
  write_file (fx, "sub/motd", "sub\n");
  write_file (fx, "sub/passwd", "root:x:0:0::/root:/bin/sh\n");
  g_autoptr (TcTreefile) tf = load_ok (fx, "root.yaml", "x86_64");
  g_autoptr (GPtrArray) files = tc_treefile_get_external_files (tf);
  const char *const expected[] = { "post.sh", "sub/conf", "sub/motd", "motd", "sub/passwd" };
  g_assert_cmpuint (files->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *path = path_in (fx, expected[i]);
      g_assert_cmpstr (files->pdata[i], ==, path);
    }
  g_autofree char *sub_dir = path_in (fx, "sub");
  g_assert_cmpstr (tc_treefile_get_file_dir (tf, "check-passwd"), ==, sub_dir);
  g_assert_cmpstr (tc_treefile_get_dir (tf), ==, fx->dir);

  write_file (fx, "root.yaml", "ref: r\npostprocess-script: missing.sh\n");
  assert_load_fails (fx, "root.yaml", "x86_64", "root.yaml:2: key \"postprocess-script\"",
                     "missing.sh: No such file or directory", NULL);
  write_file (fx, "root.yaml", "ref: r\nadd-files:\n  - [motd, /var/motd]\n");
  assert_load_fails (fx, "root.yaml", "x86_64",
                     "root.yaml:3: key \"add-files\": unsupported destination \"/var/motd\"", NULL);
  write_file (fx, "root.yaml", "ref: r\ncheck-groups:\n  type: file\n  filename: nogroup\n");
  assert_load_fails (fx, "root.yaml", "x86_64", "key \"check-groups\": \"nogroup\"", NULL);
}

static void
test_print_json (Fixture *fx, gconstpointer data)
{
  write_file (
      fx, "root.yaml",
      "variables: {v: 1}\nref: r/${v}\ninclude: [inc.yaml]\narch-include: {x86_64: inc2.yaml}\n"
      "conditional-include: [{if: v == 1, include: inc3.yaml}]\nreleasever: \"41\"\n");
  write_file (fx, "inc.yaml", "packages: [one]\n");
  write_file (fx, "inc2.yaml", "packages: [two]\n");
  write_file (fx, "inc3.yaml", "packages: [three]\n");
  g_autoptr (TcTreefile) tf = load_ok (fx, "root.yaml", "x86_64");
  g_autofree char *json = tc_treefile_to_json (tf, TRUE);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  const char *const consumed[] = { "include", "arch-include", "conditional-include", "variables" };
  for (guint i = 0; i < G_N_ELEMENTS (consumed); i++)
    g_assert_false (json_object_has_member (root, consumed[i]));
  g_assert_cmpstr (member_string (root, "ref"), ==, "r/1");
  g_assert_cmpstr (member_string (root, "releasever"), ==, "41");
  g_assert_cmpstr (member_string (root, "basearch"), ==, "x86_64");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "packages")), ==, 3);
}

static void
test_implied_settings (Fixture *fx, gconstpointer data)
{
  write_file (fx, "root.yaml", "edition: \"2024\"\nref: r\n");
  g_autoptr (TcTreefile) tf = load_ok (fx, "root.yaml", "x86_64");
  g_assert_cmpstr (tc_treefile_get_string (tf, "boot-location"), ==, "modules");
  g_assert_true (tc_treefile_get_bool (tf, "tmp-is-dir", FALSE));
  write_file (fx, "root.yaml", "container: true\nselinux: true\ninclude: inc.yaml\n");
  write_file (fx, "inc.yaml", "boot-location: new\n");
  g_autoptr (TcTreefile) container = load_ok (fx, "root.yaml", "x86_64");
  g_assert_false (tc_treefile_get_bool (container, "selinux", TRUE));
  g_assert_cmpstr (tc_treefile_get_string (container, "boot-location"), ==, "modules");
}

static void
test_check_implemented (Fixture *fx, gconstpointer data)
{
  write_file (fx, "root.yaml",
              "ref: r\nrepos: [fedora]\npackages: [kernel]\npackages-x86_64: [grub2]\n"
              "selinux: false\nboot-location: modules\ntmp-is-dir: true\nrpmdb: sqlite\n"
              "variables: {a: 1}\nreleasever: 40\nrecommends: false\ndocumentation: false\n"
              "units: [a.service]\ndefault-target: multi-user.target\nmachineid-compat: false\n"
              "etc-group-members: [wheel]\ncheck-passwd: {type: previous}\n"
              "check-groups: {type: none}\ngpg-key: K\nmutate-os-release: \"40\"\n"
              "automatic-version-prefix: \"40\"\nautomatic-version-suffix: \"-\"\n"
              "add-commit-metadata: {a: b}\nremove-files: [usr/share/doc]\n"
              "remove-from-packages: [[systemd, /usr/lib/foo]]\npostprocess: ['true']\n"
              "exclude-packages: [perl]\n");
  g_autoptr (TcTreefile) tf = load_ok (fx, "root.yaml", "x86_64");
  g_autoptr (GError) error = NULL;
  g_assert_true (tc_treefile_check_implemented (tf, &error));
  g_assert_no_error (error);

  static const struct
  {
    const char *included;
    const char *message;
  } cases[] = {
    { "rojig: {name: n, summary: s, license: MIT}\n",
      "inc.yaml: key \"rojig\" is not implemented by treectl yet" },
    { "ostree_layers: [overlay/x]\n",
      "inc.yaml: key \"ostree-layers\" is not implemented by treectl yet" },
    { "repovars: {x: y}\n", "inc.yaml: key \"repovars\" is not implemented by treectl yet" },
    { "metadata: {x: y}\n", "inc.yaml: key \"metadata\" is not implemented by treectl yet" },
    { "selinux: true\n",
      "inc.yaml: selinux: true is not supported: treectl has no SELinux policy support" },
    { "boot-location: new\n", "inc.yaml: boot-location \"new\" is not implemented by treectl yet" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      write_file (fx, "root.yaml", "ref: r\ninclude: inc.yaml\npackages: [a]\n");
      write_file (fx, "inc.yaml", cases[i].included);
      g_autoptr (TcTreefile) partial = load_ok (fx, "root.yaml", "x86_64");
      g_autoptr (GError) partial_error = NULL;
      g_assert_false (tc_treefile_check_implemented (partial, &partial_error));
      assert_message (partial_error, cases[i].message);
    }
}

static void
test_bad_input (Fixture *fx, gconstpointer data)
{
  static const struct
  {
    const char *name;
    const char *contents;
    const char *message;
  } cases[] = {
    /* Syntax */
    { "bad.yaml", "ref: a\npackages:\n  - foo\n bar: x\n",
      "bad.yaml:4:2: did not find expected key" },
    { "bad.yaml", "ref: [a\n", "bad.yaml:2:1: did not find expected ',' or ']'" },
    { "bad.json", "{\n  \"ref\": \"a\",\n  \"packages\": [\"x\",]\n}\n", "bad.json:3:" },
    { "bad.json", "[\"ref\"]\n", "bad.json:1: expected a JSON object" },
    { "bad.yaml", "- ref\n", "bad.yaml:1: expected a mapping of treefile keys" },
    { "bad.yaml", "../elsewhere.yaml", "found the text \"../elsewhere.yaml\"" },
    { "bad.yaml", "ref: a\nref: b\n", "bad.yaml:2: duplicate key \"ref\"" },
    { "bad.json", "{\"ref\": \"a\",\n\"ref\": \"b\"}\n", "bad.json:2: duplicate key \"ref\"" },
    { "bad.yaml", "ref: a\n---\nref: b\n", "bad.yaml:2: more than one YAML document" },
    { "bad.yaml", "ref: *nope\n", "bad.yaml:1: unknown alias \"*nope\"" },
    { "bad.yaml", "x: &x [*x]\n", "unknown alias \"*x\"" },
    { "bad.yaml", "? [a]\n: b\n", "bad.yaml:1: mapping keys must be strings" },
    /* Keys */
    { "bad.yaml", "ref: a\n\nfrobnicate: 1\n", "bad.yaml:3: unknown key \"frobnicate\"" },
    { "bad.json", "{\"ref\": \"a\",\n\n \"frob\": 1}\n", "bad.json:3: unknown key \"frob\"" },
    { "bad.yaml", "exclude-packages-x86_64: [a]\n",
      "bad.yaml:1: unknown key \"exclude-packages-x86_64\"" },
    { "bad.yaml", "gpg-key: a\ngpg_key: b\n", "bad.yaml:2: key \"gpg-key\" is given twice" },
    /* Types */
    { "bad.yaml", "ref: [a]\n", "bad.yaml:1: key \"ref\": expected a string, got a list" },
    { "bad.yaml", "ref: a\npackages: vim\n",
      "bad.yaml:2: key \"packages\": expected a list of strings, got a string" },
    { "bad.yaml", "packages:\n  - vim\n  - {a: b}\n",
      "bad.yaml:3: key \"packages\": expected a list of strings, but item 2 is a map" },
    { "bad.json", "{\"packages\": [\"a\", 1]}",
      "bad.json:1: key \"packages\": expected a list of strings, but item 2 is a number" },
    { "bad.yaml", "recommends: \"no\"\n",
      "bad.yaml:1: key \"recommends\": expected true or false, got a string" },
    { "bad.yaml", "releasever: -1\n",
      "key \"releasever\": expected a string or a non-negative integer" },
    { "bad.yaml", "boot-location: sideways\n",
      "bad.yaml:1: key \"boot-location\": expected one of \"new\", \"modules\"" },
    { "bad.yaml", "include: {a: b}\n",
      "bad.yaml:1: key \"include\": expected a path or a list of paths, got a map" },
    { "bad.yaml", "variables:\n  basearch: x\n",
      "bad.yaml:2: key \"variables\": \"basearch\" is reserved" },
    { "bad.yaml", "variables: {v: [1]}\n",
      "key \"variables\": \"v\" must be a boolean, a non-negative integer or a string" },
    { "bad.yaml", "add-files:\n  - [a]\n",
      "bad.yaml:2: key \"add-files\": item 1 must be a list of two strings" },
    { "bad.yaml", "remove-from-packages: [[]]\n",
      "key \"remove-from-packages\": item 1 must be a non-empty list of strings" },
    { "bad.yaml", "check-passwd:\n  type: sometimes\n",
      "bad.yaml:2: key \"check-passwd\": \"type\" must be one of" },
    { "bad.yaml", "check-passwd: {type: file}\n",
      "key \"check-passwd\": type \"file\" needs a \"filename\" string" },
    { "bad.yaml", "check-groups: {type: none, filenme: x}\n",
      "key \"check-groups\": unknown field \"filenme\"" },
    { "bad.yaml", "rojig: {name: a}\n", "key \"rojig\": field \"summary\" must be a string" },
    { "bad.yaml", "repo-packages:\n  - repo: a\n",
      "key \"repo-packages\": item 1 has no \"packages\"" },
    { "bad.yaml", "conditional-include:\n  - include: a.yaml\n",
      "bad.yaml:2: key \"conditional-include\": each entry needs \"if\" and \"include\"" },
    { "bad.yaml", "conditional-include:\n  - if: a ~ 1\n    include: a.yaml\n",
      "bad.yaml:2: key \"conditional-include\": invalid condition \"a ~ 1\"" },
    { "bad.yaml", "conditional-include:\n  - if: v == 1\n    include: {include: x.yaml}\n",
      "bad.yaml:3: key \"include\" cannot be used in an inline conditional-include" },
    { "bad.yaml",
      "variables: {v: 2}\nconditional-include:\n  - if: v == 1\n    include:\n      frob: 1\n",
      "bad.yaml:5: unknown key \"frob\"" },
    /* Values */
    { "bad.yaml", "basearch: s390x\n",
      "bad.yaml:1: basearch \"s390x\" does not match the target architecture \"x86_64\"" },
    { "bad.yaml", "automatic-version-suffix: \"--\"\n",
      "bad.yaml:1: key \"automatic-version-suffix\": must be exactly one ASCII character" },
    { "bad.yaml", "packages: [\"'vim\"]\n",
      "bad.yaml:1: key \"packages\": missing terminating quote" },
    { "bad.yaml", "ref: ${stream}/x\n", "bad.yaml:1: ref: unknown variable \"stream\"" },
    { "bad.yaml", "add-commit-metadata:\n  a: b\n  c: ${nope}\n",
      "bad.yaml:3: add-commit-metadata \"c\": unknown variable \"nope\"" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      write_file (fx, cases[i].name, cases[i].contents);
      assert_load_fails (fx, cases[i].name, "x86_64", cases[i].message, NULL);
    }
}

static void
test_bad_includes (Fixture *fx, gconstpointer data)
{
  write_file (fx, "a.yaml", "ref: a\ninclude: b.yaml\n");
  write_file (fx, "b.yaml", "include: [c.yaml]\n");
  write_file (fx, "c.yaml", "\ninclude: a.yaml\n");
  assert_load_fails (fx, "a.yaml", "x86_64", "c.yaml:2: include loop: ", "a.yaml -> ", "b.yaml -> ",
                     "c.yaml -> ", NULL);
  write_file (fx, "self.yaml", "include: self.yaml\n");
  assert_load_fails (fx, "self.yaml", "x86_64", "self.yaml:1: include loop: ", NULL);

  write_file (fx, "missing.yaml", "ref: a\ninclude:\n  - a.yaml\n  - sub/nope.yaml\n");
  write_file (fx, "a.yaml", "ref: a\n");
  g_autofree char *nope = path_in (fx, "sub/nope.yaml");
  assert_load_fails (fx, "missing.yaml", "x86_64",
                     "missing.yaml:4: include \"sub/nope.yaml\": ", nope,
                     ": No such file or directory", NULL);

  /* rpm-ostree refuses to include one file twice. */
  write_file (fx, "diamond.yaml", "include: [left.yaml, right.yaml]\n");
  write_file (fx, "left.yaml", "include: common.yaml\n");
  write_file (fx, "right.yaml", "include: common.yaml\n");
  write_file (fx, "common.yaml", "packages: [x]\n");
  assert_load_fails (fx, "diamond.yaml", "x86_64", "right.yaml:1: include \"common.yaml\"",
                     "is already included by", "left.yaml", NULL);

  assert_load_fails (fx, "does-not-exist.yaml", "x86_64",
                     "does-not-exist.yaml: No such file or directory", NULL);
  g_autofree char *subdir = path_in (fx, "dir.yaml");
  g_assert_cmpint (g_mkdir (subdir, 0755), ==, 0);
  assert_load_fails (fx, "dir.yaml", "x86_64", "dir.yaml: not a regular file", NULL);
}

static void
test_alias_bomb (Fixture *fx, gconstpointer data)
{
  g_autoptr (GString) text = g_string_new ("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
  for (guint i = 1; i < 10; i++)
    {
      g_string_append_printf (text, "a%u: &a%u [", i, i);
      for (guint j = 0; j < 10; j++)
        g_string_append_printf (text, "%s*a%u", j ? ", " : "", i - 1);
      g_string_append (text, "]\n");
    }
  write_file (fx, "bomb.yaml", text->str);
  assert_load_fails (fx, "bomb.yaml", "x86_64", "bomb.yaml:", "nodes after expanding aliases",
                     NULL);
  g_autoptr (GString) deep = g_string_new ("ref: ");
  for (guint i = 0; i < 100; i++)
    g_string_append_c (deep, '[');
  for (guint i = 0; i < 100; i++)
    g_string_append_c (deep, ']');
  write_file (fx, "deep.yaml", deep->str);
  assert_load_fails (fx, "deep.yaml", "x86_64", "deep.yaml:1: nested deeper than", NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/treefile/merge/scalars", test_merge_scalars);
  ADD ("/treefile/merge/lists", test_merge_lists);
  ADD ("/treefile/merge/maps-and-sets", test_merge_maps_and_sets);
  ADD ("/treefile/underscore-aliases", test_underscore_aliases);
  ADD ("/treefile/variables", test_variables);
  ADD ("/treefile/conditional-include", test_conditional_include);
  ADD ("/treefile/conditional-include-errors", test_conditional_include_errors);
  ADD ("/treefile/arch-include", test_arch_include);
  ADD ("/treefile/packages-arch", test_packages_arch);
  ADD ("/treefile/symlinked-include", test_symlinked_include);
  ADD ("/treefile/json-and-detection", test_json_and_detection);
  ADD ("/treefile/external-files", test_external_files);
  ADD ("/treefile/print-json", test_print_json);
  ADD ("/treefile/implied-settings", test_implied_settings);
  ADD ("/treefile/check-implemented", test_check_implemented);
  ADD ("/treefile/bad-input", test_bad_input);
  ADD ("/treefile/bad-includes", test_bad_includes);
  ADD ("/treefile/alias-bomb", test_alias_bomb);
#undef ADD
  return g_test_run ();
}
