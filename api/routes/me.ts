// Who the caller is, as the API sees it: AgentView shows it after sign-in and picks the pages by
// its roles. The same subject is what every history records as `by`.
import { createRoute } from '@hono/zod-openapi';
import type { ApiDeps } from '../app';
import { newRouter } from '../app';
import { guarded, roles } from '../auth';
import { MeSchema, answer } from '../schemas';

const me = createRoute({
  ...roles('agent', 'adaptor', 'ops', 'admin'),
  method: 'get',
  path: '/me',
  tags: ['identity'],
  summary: 'The caller: subject, display name and roles',
  responses: { 200: answer('The caller', MeSchema) },
});

export function meRoutes({ config }: ApiDeps) {
  const r = newRouter();
  r.openapi(guarded(config, me), (c) => {
    const principal = c.get('principal')!;
    return c.json({ subject: principal.subject, name: principal.name, roles: principal.roles }, 200);
  });
  return r;
}
