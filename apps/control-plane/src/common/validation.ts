// The one place where API input is checked. Tag, selector, port and namespace rules come from
// @palisade/policy, so the API and the agents can never disagree on what a selector means.
import { ValidationPipe } from '@nestjs/common';
import { normalizeSelector, parsePort, PolicyError, validateNamespace, validatePortNumber, validatePorts, validateTags } from '@palisade/policy';
import { plainToInstance } from 'class-transformer';
import { registerDecorator, validateSync, type ValidationError, type ValidationOptions } from 'class-validator';
import { type FieldError, validationError } from './api-error';

const POLICY_MARK = '\u0000policy:';

/** Wraps a @palisade/policy check as a class-validator decorator that keeps the policy error code and path. */
function policyRule(name: string, check: (value: unknown, field: string) => unknown, options?: ValidationOptions) {
  return (target: object, propertyName: string): void => {
    registerDecorator({
      name,
      target: target.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => {
          try {
            check(value, propertyName);
            return true;
          } catch {
            return false;
          }
        },
        defaultMessage: (args) => {
          try {
            check(args?.value, propertyName);
            return `${propertyName} is invalid`;
          } catch (e) {
            if (e instanceof PolicyError) {
              const message = e.message.startsWith(`${e.path}: `) ? e.message.slice(e.path.length + 2) : e.message;
              return POLICY_MARK + JSON.stringify({ code: e.code, path: e.path, message });
            }
            return `${propertyName} is invalid`;
          }
        },
      },
    });
  };
}

/** User tags (`key=value`, no `$` system tags). */
export const IsTags = (o?: ValidationOptions) => policyRule('tags', (v, f) => validateTags(v, { field: f }), o);
/** Effective tags as a peer would carry them, system tags included (the what-if check's subject and object). */
export const IsEffectiveTags = (o?: ValidationOptions) =>
  policyRule('effectiveTags', (v, f) => validateTags(v, { field: f, allowSystem: true }), o);
/** One concrete TCP port `tcp/8106` (a flow's destination, not a range). */
export const IsConcretePort = (o?: ValidationOptions) =>
  policyRule(
    'concretePort',
    (v, f) => {
      const r = parsePort(v, f);
      if (r.protocol !== 'tcp') {
        throw new PolicyError('port_malformed', f, 'Palisade decides TCP flows: the port must look like "tcp/8106"');
      }
      if (r.from !== r.to) {
        throw new PolicyError('port_malformed', f, 'a flow has one destination port, like "tcp/8106"');
      }
      return r;
    },
    o,
  );
/** A selector `string[][]` (see @palisade/policy normalizeSelector). */
export const IsSelector = (o?: ValidationOptions) => policyRule('selector', (v, f) => normalizeSelector(v, f), o);
/** Port specs like `tcp/8106`, `tcp/1000:2000`, `tcp`. */
export const IsPortSpecs = (o?: ValidationOptions) => policyRule('ports', (v, f) => validatePorts(v, f), o);
/** One port number 1–65535. */
export const IsPortNumber = (o?: ValidationOptions) => policyRule('port', (v, f) => validatePortNumber(v, f), o);
/** A namespace path (`/a/b`). */
export const IsNamespacePath = (o?: ValidationOptions) => policyRule('namespace', (v, f) => validateNamespace(v, f), o);

/** Flattens class-validator's error tree into `{ field, code, message }` with full paths. */
export function flattenErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const isIndex = /^\d+$/.test(e.property);
    const field = isIndex ? `${prefix}[${e.property}]` : prefix ? `${prefix}.${e.property}` : e.property;
    for (const [code, raw] of Object.entries(e.constraints ?? {})) {
      if (raw.startsWith(POLICY_MARK)) {
        const p = JSON.parse(raw.slice(POLICY_MARK.length)) as { code: string; path: string; message: string };
        // The policy path starts with the property name; re-root it under the parent path.
        const path = prefix ? `${prefix}.${p.path}` : p.path;
        out.push({ field: path, code: p.code, message: p.message });
      } else if (code === 'whitelistValidation') {
        out.push({ field, code: 'field_unknown', message: `${field} is not a known field` });
      } else {
        out.push({ field, code, message: raw });
      }
    }
    if (e.children?.length) {
      out.push(...flattenErrors(e.children, field));
    }
  }
  return out;
}

const VALIDATOR_OPTIONS = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true } as const;

/** The global pipe: whitelist, refuse unknown fields, transform into DTO classes; errors → validation_failed. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    ...VALIDATOR_OPTIONS,
    transform: true,
    // No implicit conversion: "8106" is not a port number. Query DTOs convert explicitly with @Transform.
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => validationError(flattenErrors(errors)),
  });
}

/**
 * Validates a plain value (an element of an import document) against a DTO class, the same way the
 * global pipe validates bodies. `path` prefixes every field (`data.services[0]`). Throws validation_failed.
 */
export function validateDto<T extends object>(cls: new () => T, value: unknown, path: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw validationError([{ field: path, code: 'not_object', message: `${path} must be an object` }]);
  }
  const instance = plainToInstance(cls, value, { enableImplicitConversion: false });
  const errors = validateSync(instance, VALIDATOR_OPTIONS);
  if (errors.length > 0) {
    throw validationError(flattenErrors(errors, path));
  }
  return instance;
}
