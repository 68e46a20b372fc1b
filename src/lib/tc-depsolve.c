/* SPDX-License-Identifier: LGPL-2.1-or-later
 * libsolv jobs and problem reporting. */
#include "config.h"

#include <string.h>

#include <solv/pool.h>
#include <solv/solver.h>
#include <solv/bitmap.h>
#include <solv/selection.h>
#include <solv/transaction.h>

#include "tc-depsolve.h"
#include "tc-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Solver, solver_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Transaction, transaction_free)

const char *
tc_solvable_nevra (Pool *pool, Id p)
{
  return pool_solvid2str (pool, p);
}

/* Hides every solvable named in @excludes from the solver, as dnf's exclude does. */
static void
apply_excludes (Pool *pool, const char *const *excludes)
{
  if (!excludes || !excludes[0])
    return;
  if (!pool->considered)
    {
      pool->considered = solv_calloc (1, sizeof (Map));
      map_init (pool->considered, pool->nsolvables);
      map_setall (pool->considered);
    }
  Id p;
  Solvable *s;
  FOR_POOL_SOLVABLES (p)
  {
    s = pool->solvables + p;
    if (pool->installed && s->repo == pool->installed)
      continue;
    const char *name = pool_id2str (pool, s->name);
    for (const char *const *e = excludes; *e; e++)
      if (g_str_equal (name, *e))
        MAPCLR (pool->considered, p);
  }
}

static char *
describe_problems (Solver *solv)
{
  GString *out = g_string_new ("");
  int n = solver_problem_count (solv);
  for (Id problem = 1; problem <= n; problem++)
    {
      g_string_append_printf (out, "\n  problem %d: %s", problem, solver_problem2str (solv, problem));
      /* The other rules of the problem tell the rest of the story. */
      Queue rules;
      queue_init (&rules);
      solver_findallproblemrules (solv, problem, &rules);
      for (int i = 0; i < rules.count; i++)
        {
          Id source, target, dep;
          SolverRuleinfo type;
          type = solver_ruleinfo (solv, rules.elements[i], &source, &target, &dep);
          const char *text = solver_problemruleinfo2str (solv, type, source, target, dep);
          if (text && !strstr (out->str, text))
            g_string_append_printf (out, "\n    - %s", text);
        }
      queue_free (&rules);
    }
  return g_string_free (out, FALSE);
}

gboolean
tc_depsolve (Pool *pool, const TcDepsolveRequest *request, Queue *out_installs, GError **error)
{
  return tc_depsolve_full (pool, request, out_installs, NULL, error);
}

static gboolean
is_replaceable (Pool *pool, const TcDepsolveRequest *request, Id p)
{
  for (int i = 0; i < request->n_erase; i++)
    if (request->erase[i] == p)
      return TRUE;
  const char *name = pool_id2str (pool, pool->solvables[p].name);
  return request->replaceable && g_strv_contains (request->replaceable, name);
}

gboolean
tc_depsolve_full (Pool *pool, const TcDepsolveRequest *request, Queue *out_installs,
                  Queue *out_erasures, GError **error)
{
  apply_excludes (pool, request->exclude_packages);
  pool_addfileprovides (pool);
  pool_createwhatprovides (pool);

  Queue job;
  queue_init (&job);
  for (const char *const *spec = request->packages; spec && *spec; spec++)
    {
      Queue sel;
      queue_init (&sel);
      int flags = SELECTION_NAME | SELECTION_PROVIDES | SELECTION_GLOB | SELECTION_CANON
                  | SELECTION_DOTARCH | SELECTION_REL;
      selection_make (pool, &sel, *spec, flags);
      if (sel.count == 0)
        {
          queue_free (&sel);
          queue_free (&job);
          gboolean excluded = FALSE;
          for (const char *const *e = request->exclude_packages; e && *e; e++)
            excluded = excluded || g_str_equal (*e, *spec);
          if (excluded)
            return tc_throw (error, "package \"%s\" is both requested and excluded", *spec);
          return tc_throw (error, "package \"%s\" not found in the enabled repositories", *spec);
        }
      if (pool->installed)
        {
          /* Layering: what the base already has is not added again. */
          Queue matches;
          queue_init (&matches);
          selection_solvables (pool, &sel, &matches);
          Id in_base = 0;
          for (int i = 0; i < matches.count && !in_base; i++)
            if (pool->solvables[matches.elements[i]].repo == pool->installed)
              in_base = matches.elements[i];
          queue_free (&matches);
          if (in_base)
            {
              g_autofree char *nevra = g_strdup (pool_solvid2str (pool, in_base));
              queue_free (&sel);
              queue_free (&job);
              return tc_throw (error, "\"%s\" is already provided by the base package %s", *spec,
                               nevra);
            }
        }
      for (int i = 0; i < sel.count; i += 2)
        queue_push2 (&job, SOLVER_INSTALL | sel.elements[i], sel.elements[i + 1]);
      queue_free (&sel);
    }

  for (int i = 0; i < request->n_solvables; i++)
    queue_push2 (&job, SOLVER_INSTALL | SOLVER_SOLVABLE, request->solvables[i]);
  for (int i = 0; i < request->n_erase; i++)
    queue_push2 (&job, SOLVER_ERASE | SOLVER_SOLVABLE, request->erase[i]);

  g_autoptr(Solver) solv = solver_create (pool);
  solver_set_flag (solv, SOLVER_FLAG_IGNORE_RECOMMENDED, !request->recommends);
  /* A base (installed) package must never change as a side effect: layering and overrides
   * name such changes explicitly. */
  solver_set_flag (solv, SOLVER_FLAG_ALLOW_UNINSTALL, 0);
  solver_set_flag (solv, SOLVER_FLAG_BEST_OBEY_POLICY, 1);
  if (solver_solve (solv, &job) != 0)
    {
      g_autofree char *problems = describe_problems (solv);
      queue_free (&job);
      return tc_throw (error, "cannot resolve the requested packages:%s", problems);
    }
  queue_free (&job);

  g_autoptr(Transaction) trans = solver_create_transaction (solv);
  if (out_erasures)
    queue_empty (out_erasures);
  if (pool->installed)
    {
      /* libsolv may update or replace an installed package to satisfy a request; a layer
       * must never change its base. */
      g_autoptr(GString) replaced = g_string_new ("");
      for (int i = 0; i < trans->steps.count; i++)
        {
          Id p = trans->steps.elements[i];
          if (pool->solvables[p].repo != pool->installed)
            continue;
          if (is_replaceable (pool, request, p))
            {
              if (out_erasures)
                queue_push (out_erasures, p);
              continue;
            }
          Id by = transaction_obs_pkg (trans, p);
          if (by)
            g_string_append_printf (replaced, "\n  layered package %s would replace base package %s",
                                    pool_solvid2str (pool, by), pool_solvid2str (pool, p));
          else
            g_string_append_printf (replaced, "\n  base package %s would be removed",
                                    pool_solvid2str (pool, p));
        }
      if (replaced->len)
        return tc_throw (error, "the request would change base packages, which layering never "
                                "does (use 'treectl override' for that):%s",
                         replaced->str);
    }
  transaction_order (trans, 0);
  queue_empty (out_installs);
  for (int i = 0; i < trans->steps.count; i++)
    {
      /* Every step that brings a package in (installs, and the new side of an upgrade or
       * downgrade an override asked for); the installed side is in out_erasures. */
      Id p = trans->steps.elements[i];
      if (!pool->installed || pool->solvables[p].repo != pool->installed)
        queue_push (out_installs, p);
    }
  return TRUE;
}
