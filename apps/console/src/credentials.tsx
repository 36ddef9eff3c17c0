import { useState } from 'react';
import { ApiError, type Credentials } from './api';
import { ErrorMessage, TextField } from './ui';

/** What a person types to authorize: API key parameters (labelled with their display names), or Basic's pair. */
export type CredentialFields = { kind: 'api_key'; params: { name: string; displayName: string }[] } | { kind: 'basic' };

/**
 * The credentials form of "Create and Connect", Enable and connect links. Values go to the API once and are never kept
 * in the page after it answers; an error that names a field is shown under that field.
 */
export function CredentialsForm(props: { fields: CredentialFields; submit: string; onSubmit: (credentials: Credentials) => Promise<void>; onCancel?: () => void }) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const api = error instanceof ApiError ? error : undefined;
  const named = (path: string) => api?.about(path);
  const set = (name: string) => (value: string) => setValues((old) => ({ ...old, [name]: value }));
  const fieldPaths = props.fields.kind === 'basic' ? ['username', 'password'] : props.fields.params.map((param) => `values.${param.name}`);
  const general = api && fieldPaths.some((path) => named(path)) ? undefined : error;

  return (
    <form
      className="credentials"
      onSubmit={async (event) => {
        event.preventDefault();
        setBusy(true);
        setError(undefined);
        const credentials: Credentials =
          props.fields.kind === 'basic' ? { username: values.username ?? '', password: values.password ?? '' } : { values: Object.fromEntries(props.fields.params.map((param) => [param.name, values[param.name] ?? ''])) };
        try {
          await props.onSubmit(credentials);
          setValues({});
        } catch (reason) {
          setError(reason);
        } finally {
          setBusy(false);
        }
      }}
    >
      <ErrorMessage error={general} />
      {props.fields.kind === 'basic' ? (
        <>
          <TextField label="Username" name="username" value={values.username ?? ''} onChange={set('username')} error={named('username')} autoComplete="username" required autoFocus />
          <TextField label="Password" name="password" type="password" value={values.password ?? ''} onChange={set('password')} error={named('password')} autoComplete="current-password" required />
        </>
      ) : (
        props.fields.params.map((param, index) => (
          <TextField
            key={param.name}
            label={param.displayName}
            name={param.name}
            type="password"
            value={values[param.name] ?? ''}
            onChange={set(param.name)}
            error={named(`values.${param.name}`) ?? named(`values`)}
            hint={
              <>
                Sent as <code>{param.name}</code>
              </>
            }
            autoComplete="off"
            required
            autoFocus={index === 0}
          />
        ))
      )}
      <div className="actions">
        {props.onCancel && (
          <button type="button" className="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? 'Connecting…' : props.submit}
        </button>
      </div>
    </form>
  );
}

/** Where an OAuth authorization comes back to: this page, with `plugboard_status` and `connection` added by Plugboard. */
export function returnHere(path: string): string {
  return `${location.origin}/console${path}`;
}
