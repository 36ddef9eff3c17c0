import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError } from './api';
import { navigate } from './router';

/** A labelled field: the label is always visible, the hint and the error are tied to the input for screen readers. */
export function Field(props: { label: string; hint?: ReactNode; error?: string; children: (ids: { id: string; describedBy?: string; invalid: boolean }) => ReactNode }) {
  const id = useId();
  const hintId = props.hint ? `${id}-hint` : undefined;
  const errorId = props.error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${props.error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.children({ id, describedBy, invalid: Boolean(props.error) })}
      {props.hint && (
        <p className="hint" id={hintId}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p className="field-error" id={errorId} role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}

export function TextField(props: {
  label: string;
  name: string;
  value: string;
  onChange: (value: string) => void;
  type?: 'text' | 'password' | 'url' | 'search';
  hint?: ReactNode;
  error?: string;
  required?: boolean;
  autoComplete?: string;
  placeholder?: string;
  maxLength?: number;
  autoFocus?: boolean;
}) {
  return (
    <Field label={props.label} hint={props.hint} error={props.error}>
      {({ id, describedBy, invalid }) => (
        <input
          id={id}
          name={props.name}
          type={props.type ?? 'text'}
          value={props.value}
          onChange={(event) => props.onChange(event.target.value)}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
          required={props.required}
          autoComplete={props.autoComplete ?? 'off'}
          placeholder={props.placeholder}
          maxLength={props.maxLength}
          autoFocus={props.autoFocus}
          spellCheck={false}
        />
      )}
    </Field>
  );
}

export function SelectField<T extends string>(props: { label: string; name: string; value: T; options: { value: T; label: string }[]; onChange: (value: T) => void; hint?: ReactNode; error?: string; disabled?: boolean }) {
  return (
    <Field label={props.label} hint={props.hint} error={props.error}>
      {({ id, describedBy, invalid }) => (
        <select id={id} name={props.name} value={props.value} onChange={(event) => props.onChange(event.target.value as T)} aria-describedby={describedBy} aria-invalid={invalid || undefined} disabled={props.disabled}>
          {props.options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function Checkbox(props: { label: string; name: string; checked: boolean; onChange: (checked: boolean) => void; hint?: ReactNode; disabled?: boolean }) {
  const id = useId();
  return (
    <div className="checkbox">
      <input id={id} name={props.name} type="checkbox" checked={props.checked} onChange={(event) => props.onChange(event.target.checked)} disabled={props.disabled} aria-describedby={props.hint ? `${id}-hint` : undefined} />
      <label htmlFor={id}>{props.label}</label>
      {props.hint && (
        <p className="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
    </div>
  );
}

/** An in-app link: a real <a href> (open in a new tab works), navigated without a reload. */
export function Link(props: { to: string; children: ReactNode; className?: string; 'aria-current'?: 'page' }) {
  return (
    <a
      href={`/console${props.to}`}
      className={props.className}
      aria-current={props['aria-current']}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(props.to);
      }}
    >
      {props.children}
    </a>
  );
}

/** Copies a text, and says so where a screen reader hears it. */
export function CopyButton(props: { text: string; label: string }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(null), 2000);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <button
      type="button"
      className="button button-small"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(props.text);
          setCopied('yes');
        } catch {
          setCopied('no');
        }
      }}
    >
      {props.label}
      <span className="copy-status" aria-live="polite">
        {copied === 'yes' ? ' ✓ Copied' : copied === 'no' ? ' (select the text and copy it)' : ''}
      </span>
    </button>
  );
}

const STATUS_WORDS: Record<string, string> = { connected: 'Connected', pending: 'Not connected', revoked: 'Revoked', deleted: 'Deleted' };

export function StatusBadge(props: { status: string }) {
  return <span className={`badge badge-${props.status}`}>{STATUS_WORDS[props.status] ?? props.status}</span>;
}

/** An error the API answered that names no field of the form in view: shown at the top of it, with its code. */
export function ErrorMessage(props: { error: unknown }) {
  if (!props.error) return null;
  const error = props.error instanceof ApiError ? props.error : new ApiError(0, 'internal_error', typeof (props.error as Error).message === 'string' ? (props.error as Error).message : String(props.error));
  return (
    <div className="alert alert-error" role="alert">
      <p>{error.message}</p>
      {error.code !== 'internal_error' && error.code !== 'unavailable' && <p className="alert-code">Error code: {error.code}</p>}
    </div>
  );
}

export function Notice(props: { children: ReactNode; kind?: 'success' | 'info' | 'warning' }) {
  return (
    <div className={`alert alert-${props.kind ?? 'info'}`} role="status">
      {props.children}
    </div>
  );
}

export function Loading(props: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      Loading {props.what}…
    </p>
  );
}

/**
 * A confirmation pop-up (seed 001: "In the pop-up that opens, click Revoke again"): a native modal <dialog>, so focus
 * stays inside it and Escape closes it.
 */
export function Confirm(props: { open: boolean; title: string; children: ReactNode; confirm: string; danger?: boolean; busy?: boolean; onConfirm: () => void; onCancel: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  const titleId = useId();
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onCancel={(event) => (event.preventDefault(), props.onCancel())}>
      <h2 id={titleId}>{props.title}</h2>
      <div className="dialog-body">{props.children}</div>
      <div className="actions">
        <button type="button" className="button" onClick={props.onCancel} autoFocus>
          Cancel
        </button>
        <button type="button" className={`button ${props.danger ? 'button-danger' : 'button-primary'}`} onClick={props.onConfirm} disabled={props.busy}>
          {props.confirm}
        </button>
      </div>
    </dialog>
  );
}

/** Loads data for a page and keeps it, with a way to load it again after a change. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: unknown; reload: () => void; set: (data: T) => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setError(undefined);
    load().then(
      (value) => live && setData(value),
      (reason) => live && setError(reason),
    );
    return () => {
      live = false;
    };
  }, [...deps, round]);
  return { data, error, reload: () => setRound((n) => n + 1), set: setData };
}

export const AUTH_TYPE_LABELS: Record<string, string> = { api_key: 'API Key', basic: 'Basic', oauth1: 'OAuth 1', oauth2: 'OAuth 2' };
