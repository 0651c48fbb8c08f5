import { ApiError } from '../../http/errors.js';

/**
 * Services name an organization in a path `org`, as `/v1` spells it; this product's paths say
 * `org_id`, so an error about it names that.
 */
export async function inOrgIdTerms<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof ApiError && error.param === 'org') {
      throw new ApiError(error.code, error.message, 'org_id');
    }
    throw error;
  }
}
