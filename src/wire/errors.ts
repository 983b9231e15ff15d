// Scaleway's error bodies (spec §7). Every refusal the API sends is one of these; the SDKs dispatch on `type`.

export type ArgumentReason = 'required' | 'format' | 'constraint' | 'unknown';

export interface ArgumentError {
  argument_name: string;
  reason: ArgumentReason;
  help_message: string;
}

export class ApiError extends Error {
  constructor(readonly statusCode: number, readonly body: Record<string, unknown>) {
    super(String(body.message ?? body.type));
  }
}

export function invalidArguments(details: ArgumentError[]): ApiError {
  return new ApiError(400, { type: 'invalid_arguments', message: 'invalid argument(s)', details });
}

export function invalidArgument(argument: string, reason: ArgumentReason, help: string): ApiError {
  return invalidArguments([{ argument_name: argument, reason, help_message: help }]);
}

/** A key acting on a project it has no rights in. The TS SDK reads `details[].action` and `details[].resource`. */
export function permissionsDenied(action: 'read' | 'write', resource: string): ApiError {
  return new ApiError(403, { type: 'permissions_denied', message: 'insufficient permissions', details: [{ action, resource }] });
}

/** The real LB API says e.g. "backend not Found"; the standard fields let the SDKs raise ResourceNotFoundError. */
const NOT_FOUND_MESSAGES: Record<string, string> = {
  lb: 'lbs not Found',
  backend: 'backend not Found',
  frontend: 'frontend not Found',
  ip: 'ips not Found',
  certificate: 'certificate not Found',
};

export function notFound(resource: keyof typeof NOT_FOUND_MESSAGES, resourceId: string): ApiError {
  return new ApiError(404, {
    type: 'not_found',
    message: NOT_FOUND_MESSAGES[resource] ?? `${resource} not Found`,
    resource,
    resource_id: resourceId,
  });
}

export function deniedAuthentication(reason: 'invalid_argument' | 'not_found'): ApiError {
  return new ApiError(401, { type: 'denied_authentication', message: 'authentication is denied', method: 'api_key', reason });
}

export function resourceStillInUse(help: string): ApiError {
  return new ApiError(412, {
    type: 'precondition_failed',
    message: 'precondition is not respected',
    precondition: 'resource_still_in_use',
    help_message: help,
  });
}

export function alreadyExists(resource: string, resourceId: string, help: string): ApiError {
  return new ApiError(409, { type: 'already_exists', message: 'resource already exists', resource, resource_id: resourceId, help_message: help });
}

export function transientState(resource: string, resourceId: string, currentState: string): ApiError {
  return new ApiError(409, {
    type: 'transient_state',
    message: 'resource is in a transient state',
    resource,
    resource_id: resourceId,
    current_state: currentState,
  });
}

export function outOfStock(resource: string, help: string): ApiError {
  return new ApiError(409, { type: 'out_of_stock', message: 'resource is out of stock', resource, help_message: help });
}

export function routeNotFound(method: string, url: string): ApiError {
  return new ApiError(404, { type: 'not_found', message: `no route ${method} ${url}`, resource: 'route', resource_id: url });
}
