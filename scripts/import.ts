// `npm run import -- products|accounts|blocklist FILE`: the reference-data import command. It lives
// in infra/reference-import-main.ts so the production image (dist/, no scripts/) carries it too.
import '../infra/reference-import-main';
