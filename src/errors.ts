/**
 * Typed errors that services throw. One error handler (http/error-handler.ts) turns them into
 * responses of one shape, FastAPI's `{"detail": …}` that the seeds' clients already parse.
 */

/** One entry of a 422 `detail` list: where (`["body", "email"]`), what is wrong, and a code. */
export interface FieldProblem {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export type ErrorDetail = string | FieldProblem[] | Record<string, unknown>;

export abstract class AppError extends Error {
  abstract readonly statusCode: number;
  constructor(readonly detail: ErrorDetail) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail));
    this.name = new.target.name;
  }
}

export class UnauthorizedError extends AppError {
  readonly statusCode = 401;
}

export class ForbiddenError extends AppError {
  readonly statusCode = 403;
}

export class NotFoundError extends AppError {
  readonly statusCode = 404;
  constructor(what = 'Resource') {
    super(`${what} not found`);
  }
}

export class ConflictError extends AppError {
  readonly statusCode = 409;
}

export class ValidationError extends AppError {
  readonly statusCode = 422;
  constructor(problems: FieldProblem[]) {
    super(problems);
  }

  static field(loc: (string | number)[], msg: string, type = 'value_error'): ValidationError {
    return new ValidationError([{ loc, msg, type }]);
  }
}

/**
 * A patch without its undefined fields, so that `{ ...current, ...definedOnly(patch) }` keeps
 * what the client left out instead of overwriting it with undefined.
 */
export function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<T>;
}
