export { createLogger, silentLogger, type Logger, type LoggerOptions } from './logger.js';
export {
  errorFields,
  isExpectedApiError,
  serializeError,
  type SerializedError,
  type SerializeErrorOptions,
} from './errors.js';
