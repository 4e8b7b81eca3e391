import { Type } from 'typebox';
import { runProbes, type ReadinessProbe } from '../health/probes.js';
import type { VigieApp } from '../http/types.js';

const StatusOk = Type.Object({ status: Type.Literal('ok') });

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Record(Type.String(), Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('down')]), error: Type.Optional(Type.String()) })),
});

export function registerHealthRoutes(app: VigieApp, probes: readonly ReadinessProbe[]): void {
  const ok = async () => ({ status: 'ok' as const });
  const liveness = { tags: ['health'], response: { 200: StatusOk } };

  // The same answer under the three paths that the seeds' users already probe.
  app.get('/api/v1/health', { config: { access: 'public' }, schema: { ...liveness, summary: 'Health check (seed 000)' } }, ok);
  app.get('/api/v1/health/liveness', { config: { access: 'public' }, schema: { ...liveness, summary: 'Liveness probe (seed 003)' } }, ok);
  app.get('/health', { config: { access: 'public' }, schema: { ...liveness, summary: 'Health check (seed 001)' } }, ok);

  app.get(
    '/api/v1/health/readiness',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Readiness: the database (and Redis when configured) answer',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const checks = await runProbes(probes);
      const allOk = Object.values(checks).every((c) => c.status === 'ok');
      return reply.status(allOk ? 200 : 503).send({ status: allOk ? 'ok' : 'unavailable', checks });
    },
  );
}
