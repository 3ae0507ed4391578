/**
 * Which MySQL/MariaDB errors mean "this row can never be stored" (a data error: the same
 * statement fails the same way every time) as opposed to "not now" (connection lost, deadlock,
 * lock wait timeout, server restarting). Only the listed data errors are permanent; anything
 * else is retried, because dead-lettering a record that would have been stored a moment later
 * loses it from the read model, while retrying a permanent error only stalls one partition.
 */
const PERMANENT_DATA_ERRORS = new Set([
  'ER_TRUNCATED_WRONG_VALUE', // 1292: incorrect datetime value (a date outside DATETIME's range)
  'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD', // 1366: incorrect value for the column's type
  'ER_DATA_TOO_LONG', // 1406: longer than the column
  'ER_WARN_DATA_OUT_OF_RANGE', // 1264: number outside the column's range
  'ER_DATA_OUT_OF_RANGE', // 1690: arithmetic result outside the type's range
  'WARN_DATA_TRUNCATED', // 1265: data truncated (strict mode)
  'ER_BAD_NULL_ERROR', // 1048: NULL into a NOT NULL column
  'ER_WARN_NULL_TO_NOTNULL', // 1263
  'ER_INVALID_CHARACTER_STRING', // 1300: bytes not valid in the column's character set
  'ER_WRONG_VALUE', // 1525
  'ER_WRONG_VALUE_FOR_TYPE', // 1411
  'ER_DATETIME_FUNCTION_OVERFLOW', // 1441
]);

export interface PermanentSqlError {
  code: string;
  message: string;
}

/** The driver's error under Sequelize's wrapper (`original`/`parent`), if it is a permanent data error. */
export function permanentSqlError(err: unknown): PermanentSqlError | undefined {
  const wrapped = err as { original?: unknown; parent?: unknown } | undefined;
  const driver = (wrapped?.original ?? wrapped?.parent ?? err) as { code?: unknown; sqlMessage?: unknown; message?: unknown } | undefined;
  const code = driver?.code;
  if (typeof code !== 'string' || !PERMANENT_DATA_ERRORS.has(code)) return undefined;
  return { code, message: String(driver?.sqlMessage ?? driver?.message ?? '') };
}
