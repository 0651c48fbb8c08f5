import type { RouteCase } from '../helpers/isolation.js';
import { COMPAT_004_ROUTES } from './compat-004.js';

/** The compatibility routers' routes in the isolation matrix: one table per router, joined here. */
export const COMPAT_ROUTES: Record<string, RouteCase> = { ...COMPAT_004_ROUTES };
