// `npm run backfill:references`: the search references of orders stored before the search existed.
// It lives in infra/backfill-references-main.ts so the production image (dist/, no scripts/) carries it too.
import '../infra/backfill-references-main';
