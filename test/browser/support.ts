// A real browser for the AgentView tests: Debian's Chromium (installed on first use) driven by
// playwright-core, against the test system's API served on a local port.
import { serve, type ServerType } from '@hono/node-server';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { freePort } from '../../infra/dev-stack';
import type { TestSystem } from '../support/system';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve('test-results/screenshots');

/** Installs Chromium from the distribution when it is missing (idempotent; needs root and apt). */
export function ensureChromium(): string {
  if (fs.existsSync(CHROMIUM)) return CHROMIUM;
  try {
    execFileSync('bash', ['-c', 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 600_000,
    });
  } catch (err) {
    throw new Error(`Chromium is missing at ${CHROMIUM} and could not be installed with apt-get: ${String(err)}`);
  }
  if (!fs.existsSync(CHROMIUM)) throw new Error(`apt-get finished but ${CHROMIUM} is still missing`);
  return CHROMIUM;
}

export interface Browser {
  context: BrowserContext;
  baseUrl: string;
  newPage(): Promise<Page>;
  screenshot(page: Page, name: string, alsoTo?: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves the system's API (with AgentView at '/') on 127.0.0.1 and opens a fresh headless Chromium on
 * it. `port`: one chosen beforehand (AgentView's OpenID sign-in needs its address in AGENTVIEW_URL).
 */
export async function openBrowser(sys: TestSystem, opts: { port?: number } = {}): Promise<Browser> {
  const executablePath = ensureChromium();
  const port = opts.port ?? (await freePort());
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: sys.api.fetch, port, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentview-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      viewport: { width: 1440, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
  } catch (err) {
    server.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    context,
    baseUrl,
    async newPage() {
      const page = await context.newPage();
      // Anything the page logs as an error is a bug worth seeing in the test output.
      page.on('pageerror', (e) => console.error('browser page error:', e.message));
      page.on('console', (m) => {
        // Refused API calls are expected (the page shows them); anything else logged as an error is not.
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) console.error('browser console error:', m.text());
      });
      return page;
    },
    async screenshot(page, name, alsoTo) {
      const file = path.join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      if (alsoTo) {
        fs.mkdirSync(path.dirname(alsoTo), { recursive: true });
        fs.copyFileSync(file, alsoTo);
      }
    },
    async close() {
      await context.close().catch(() => {});
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in through the sign-in page with a token: the person it belongs to is who the histories name. */
/** How long a page may take to show what a step waits for. */
export const WAIT = { timeout: 60_000 };

/** Resolves once an element matching `selector` shows the text. */
export const showing = (page: Page, selector: string, t: string | RegExp) => page.locator(selector, { hasText: t }).first().waitFor(WAIT);

export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/signin`);
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}/accounts`);
}

/** Signs in through the OpenID provider's own login page (authorisation code + PKCE), as a person would. */
export async function signInWithProvider(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/signin`);
  await page.getByRole('link', { name: 'Sign in with your organisation account' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}/accounts`);
}
