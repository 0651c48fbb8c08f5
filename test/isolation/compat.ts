import type { RouteCase } from '../helpers/isolation.js';
import { COMPAT_000_ROUTES } from './compat-000.js';
import { COMPAT_001_ROUTES } from './compat-001.js';
import { COMPAT_002_ROUTES } from './compat-002.js';
import { COMPAT_003_ROUTES } from './compat-003.js';
import { COMPAT_004_ROUTES } from './compat-004.js';

/** The compatibility routers' routes in the isolation matrix: one table per router, joined here. */
export const COMPAT_ROUTES: Record<string, RouteCase> = {
  ...COMPAT_000_ROUTES,
  ...COMPAT_001_ROUTES,
  ...COMPAT_002_ROUTES,
  ...COMPAT_003_ROUTES,
  ...COMPAT_004_ROUTES,
};
