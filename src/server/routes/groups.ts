/**
 * Groups of runs with bands: `GET /api/groups?run=…&metric=<name>&group=<config key>&width=<px>` — the
 * runs grouped by config keys (repeatable `group`; none: one group), each group's mean, median, std,
 * min, max and run count at every x value over the full-resolution data, downsampled by the catalog to the
 * points where the centre line is lowest and highest in each pixel bucket. `center=mean|median`,
 * `x=step|<logged column>`, `relative=1` (x from each run's first value), `from`/`to` bound the x range.
 *
 * @example
 * GET /api/groups?run=S/R1&run=S/R2&run=S/R3&metric=loss&group=prime&width=800
 */

import { GroupParamError, groupSeries } from '../../catalog/index.js';
import { assertSafeName } from '../../format/ids.js';
import type { GroupsResponse } from '../api-types.js';
import { parseRunRef, type ServerContext } from '../context.js';
import { HttpError, intParam, numberParam, sendJson } from '../http.js';
import type { Router } from '../router.js';
import { MAX_RUNS, MAX_WIDTH } from './compare.js';

/** Most config keys one grouping may combine. */
const MAX_GROUP_KEYS = 4;

export function registerGroupRoutes(router: Router, ctx: ServerContext): void {
  router.get('/api/groups', async ({ query, res }) => {
    const refs = [...new Set(query.getAll('run'))];
    if (refs.length === 0)
      throw new HttpError(400, 'BadRequest', 'name at least one run: run=<specimen_id>/<run_id>');
    if (refs.length > MAX_RUNS)
      throw new HttpError(400, 'BadRequest', `at most ${MAX_RUNS} runs per request`);
    const runs = refs.map(parseRunRef);
    const metric = query.get('metric') ?? '';
    if (metric === '') throw new HttpError(400, 'BadRequest', 'metric is required');
    assertSafeName('metric', metric);
    const x = query.get('x') || 'step';
    assertSafeName('x column', x);
    const group = [...new Set(query.getAll('group').filter((g) => g !== ''))];
    if (group.length > MAX_GROUP_KEYS)
      throw new HttpError(400, 'BadRequest', `group by at most ${MAX_GROUP_KEYS} config keys`);
    const center = query.get('center') ?? 'mean';
    if (center !== 'mean' && center !== 'median')
      throw new HttpError(400, 'BadRequest', `center must be mean or median, got ${JSON.stringify(center)}`);
    const width = intParam(query, 'width', 800, 16, MAX_WIDTH);
    const from = numberParam(query, 'from');
    const to = numberParam(query, 'to');
    if (from !== undefined && to !== undefined && to < from)
      throw new HttpError(400, 'BadRequest', 'to must not be less than from');
    const relative = query.get('relative') === '1';
    const q = await ctx.catalog();
    try {
      const result = await groupSeries(q, {
        runs,
        metric,
        groupBy: group,
        width,
        center,
        x,
        relative,
        from,
        to,
      });
      const body: GroupsResponse = {
        metric,
        group,
        center,
        x,
        relative,
        width,
        from: from ?? null,
        to: to ?? null,
        ...result,
      };
      sendJson(res, 200, body);
    } catch (err) {
      if (err instanceof GroupParamError) throw new HttpError(400, 'BadRequest', err.message);
      throw err;
    }
  });
}
