/** Kind `http` (seed 000's HTTP targets): an active kind, probed on its interval. */
import { checkResultsHistory } from '../../monitors/results-history.js';
import { defineKind } from '../contract.js';
import { createHttpChecker } from './http.checker.js';
import { createHttpTargetsService } from './http-targets.service.js';
import { registerHttpTargetRoutes } from './routes.js';

export const httpKind = defineKind({
  kind: 'http',
  settingsTable: 'http_targets',
  services: (host) => ({ httpTargets: createHttpTargetsService(host) }),
  checker: (host) => createHttpChecker(host),
  history: checkResultsHistory(),
  routes: (app, own, deps) => registerHttpTargetRoutes(app, { ...own, monitors: deps.monitors }),
  isolationRoutes: [
    { method: 'GET', url: '/api/v1/http-targets/{id}' },
    { method: 'PATCH', url: '/api/v1/http-targets/{id}', payload: { name: 'taken over' } },
    { method: 'POST', url: '/api/v1/http-targets/{id}/check' },
    { method: 'DELETE', url: '/api/v1/http-targets/{id}' },
  ],
  example: async (own, tenantId) => ({ id: await own.httpTargets.create(tenantId, { name: 'example site', url: `http://127.0.0.1:9/${tenantId}` }) }),
});
