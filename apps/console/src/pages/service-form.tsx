import { useEffect, useState } from 'react';
import type { CreateServiceInput, EditServiceInput, ServiceView } from '@plugboard/contracts';
import { api, ApiError } from '../api';
import { linkNameProblem, proposeLinkName } from '../link-name';
import type { Session } from '../main';
import { navigate } from '../router';
import { ErrorMessage, Link, Loading, Notice, SelectField, TextField, useLoad } from '../ui';
import { CallbackUrls } from './service';

type AuthType = CreateServiceInput['authType'];
type ParamType = 'query' | 'form' | 'header';
interface Param {
  name: string;
  displayName: string;
  paramType: ParamType;
  existing?: boolean;
}
interface Scope {
  name: string;
  displayName: string;
  existing?: boolean;
}

interface Form {
  name: string;
  linkName: string;
  authType: AuthType;
  baseUrl: string;
  params: Param[];
  oauth1: { consumerKey: string; consumerSecret: string; requestTokenUrl: string; authorizeUrl: string; accessTokenUrl: string; paramType: ParamType };
  oauth2: {
    grantType: 'authorization_code' | 'client_credentials';
    clientId: string;
    clientSecret: string;
    authorizeUrl: string;
    accessTokenUrl: string;
    refreshTokenUrl: string;
    paramType: 'query' | 'header';
    scopes: Scope[];
    scopeDelimiter: 'comma' | 'space' | 'plus';
  };
}

const EMPTY: Form = {
  name: '',
  linkName: '',
  authType: 'oauth2',
  baseUrl: '',
  params: [{ name: '', displayName: '', paramType: 'header' }],
  oauth1: { consumerKey: '', consumerSecret: '', requestTokenUrl: '', authorizeUrl: '', accessTokenUrl: '', paramType: 'header' },
  oauth2: { grantType: 'authorization_code', clientId: '', clientSecret: '', authorizeUrl: '', accessTokenUrl: '', refreshTokenUrl: '', paramType: 'header', scopes: [], scopeDelimiter: 'comma' },
};

const PARAM_TYPES: { value: ParamType; label: string }[] = [
  { value: 'query', label: 'Query string' },
  { value: 'form', label: 'Form Data' },
  { value: 'header', label: 'Header' },
];

/** The form as a service's owner sees it on Edit: secrets stay empty (kept unless typed again). */
function fromService(service: ServiceView): Form {
  return {
    ...EMPTY,
    name: service.name,
    linkName: service.linkName,
    authType: service.authType,
    baseUrl: service.baseUrl ?? '',
    params: service.apiKey?.params.map((param) => ({ ...param, existing: true })) ?? EMPTY.params,
    oauth1: { ...EMPTY.oauth1, ...service.oauth1, consumerSecret: '' } as Form['oauth1'],
    oauth2: {
      ...EMPTY.oauth2,
      ...service.oauth2,
      clientSecret: '',
      authorizeUrl: service.oauth2?.authorizeUrl ?? '',
      refreshTokenUrl: service.oauth2?.refreshTokenUrl ?? '',
      scopes: service.oauth2?.scopes?.map((scope) => ({ ...scope, existing: true })) ?? [],
    } as Form['oauth2'],
  };
}

const optional = (value: string) => (value.trim() ? value.trim() : undefined);

function toCreate(form: Form): CreateServiceInput {
  const common = { name: form.name.trim(), linkName: form.linkName, ...(optional(form.baseUrl) ? { baseUrl: form.baseUrl.trim() } : {}) };
  switch (form.authType) {
    case 'api_key':
      return { ...common, authType: 'api_key', apiKey: { params: form.params.map(({ name, displayName, paramType }) => ({ name: name.trim(), displayName: displayName.trim(), paramType })) } };
    case 'basic':
      return { ...common, authType: 'basic' };
    case 'oauth1':
      return { ...common, authType: 'oauth1', oauth1: { ...form.oauth1 } };
    case 'oauth2': {
      const o = form.oauth2;
      return {
        ...common,
        authType: 'oauth2',
        oauth2: {
          grantType: o.grantType,
          clientId: o.clientId.trim(),
          clientSecret: o.clientSecret,
          ...(o.grantType === 'authorization_code' ? { authorizeUrl: o.authorizeUrl.trim() } : {}),
          accessTokenUrl: o.accessTokenUrl.trim(),
          ...(optional(o.refreshTokenUrl) ? { refreshTokenUrl: o.refreshTokenUrl.trim() } : {}),
          paramType: o.paramType,
          scopes: o.scopes.map((scope) => ({ name: scope.name.trim(), displayName: scope.displayName.trim() || scope.name.trim() })),
          scopeDelimiter: o.scopeDelimiter,
        },
      };
    }
    default:
      return form.authType satisfies never;
  }
}

/** Only what the owner changed, within seed 004's table of editable fields. */
function toEdit(form: Form, service: ServiceView): EditServiceInput {
  const changes: EditServiceInput = {};
  if (form.name.trim() !== service.name) changes.name = form.name.trim();
  if ((service.baseUrl ?? '') !== form.baseUrl.trim()) changes.baseUrl = form.baseUrl.trim() || null;
  if (form.authType === 'api_key') {
    const params = form.params.map(({ name, displayName, paramType }) => ({ name: name.trim(), displayName: displayName.trim(), paramType }));
    if (JSON.stringify(params) !== JSON.stringify(service.apiKey?.params)) changes.apiKey = { params };
  }
  if (form.authType === 'oauth1' && service.oauth1) {
    const o = form.oauth1;
    const edit: NonNullable<EditServiceInput['oauth1']> = {};
    for (const key of ['consumerKey', 'requestTokenUrl', 'authorizeUrl', 'accessTokenUrl', 'paramType'] as const) if (o[key] !== service.oauth1[key]) Object.assign(edit, { [key]: o[key] });
    if (o.consumerSecret) edit.consumerSecret = o.consumerSecret;
    if (Object.keys(edit).length) changes.oauth1 = edit;
  }
  if (form.authType === 'oauth2' && service.oauth2) {
    const o = form.oauth2;
    const edit: NonNullable<EditServiceInput['oauth2']> = {};
    for (const key of ['clientId', 'authorizeUrl', 'accessTokenUrl', 'refreshTokenUrl', 'paramType'] as const) if ((o[key] || undefined) !== (service.oauth2[key] || undefined)) Object.assign(edit, { [key]: o[key] });
    if (o.clientSecret) edit.clientSecret = o.clientSecret;
    if (o.scopes.length !== (service.oauth2.scopes?.length ?? 0)) edit.scopes = o.scopes.map((scope) => ({ name: scope.name.trim(), displayName: scope.displayName.trim() || scope.name.trim() }));
    if (Object.keys(edit).length) changes.oauth2 = edit;
  }
  return changes;
}

/** "Custom Service": create one of any auth type with the seeds' fields, or Edit one you own. */
export function ServiceFormPage(props: { session: Session; linkName?: string }) {
  const editing = props.linkName !== undefined;
  const { data: service, error: loadError } = useLoad(() => (props.linkName ? api.service(props.linkName) : Promise.resolve(undefined)), [props.linkName]);
  const [form, setForm] = useState<Form>(EMPTY);
  const [linkNameEdited, setLinkNameEdited] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const oauth = form.authType === 'oauth1' || form.authType === 'oauth2' ? form.authType : undefined;
  const { data: callbackUrls } = useLoad(() => (oauth && !service ? api.callbackUrls(oauth).catch(() => []) : Promise.resolve([])), [oauth, service]);

  useEffect(() => {
    if (service) setForm(fromService(service));
  }, [service]);

  if (loadError) {
    return (
      <>
        <h1 tabIndex={-1}>Edit service</h1>
        <ErrorMessage error={loadError} />
      </>
    );
  }
  if (editing && !service) return <Loading what="the service" />;
  if (service && service.owner !== props.session.userId) {
    return (
      <>
        <h1 tabIndex={-1}>Edit {service.name}</h1>
        <Notice kind="warning">Only {service.owner ?? 'its owner'} can edit this service: you can only edit the custom services you configured.</Notice>
      </>
    );
  }

  const apiError = error instanceof ApiError ? error : undefined;
  const at = (path: string) => apiError?.about(path) ?? (apiError?.code === 'link_name_taken' && path === 'linkName' ? apiError.message : undefined);
  const named = apiError && (apiError.code === 'link_name_taken' || apiError.details.length > 0);
  const set = (patch: Partial<Form>) => setForm((old) => ({ ...old, ...patch }));
  const setO1 = (patch: Partial<Form['oauth1']>) => setForm((old) => ({ ...old, oauth1: { ...old.oauth1, ...patch } }));
  const setO2 = (patch: Partial<Form['oauth2']>) => setForm((old) => ({ ...old, oauth2: { ...old.oauth2, ...patch } }));
  const secretHint = editing ? 'Leave empty to keep the current one.' : undefined;
  const revokes = service?.connectionCount ?? 0;

  return (
    <>
      <p className="breadcrumb">
        <Link to="/new/custom">Custom Service</Link> ›
      </p>
      <div className="page-head">
        <h1 tabIndex={-1}>{editing ? `Edit ${service?.name}` : 'Create Your Own Service'}</h1>
        <p className="lead">
          {editing ? 'Change what seed 004 allows: the link name, authentication type and grant type stay as they are.' : 'Describe a service that is not in the catalog. Everyone in your organization can then create connections to it.'}
        </p>
      </div>
      <form
        className="card service-form"
        noValidate
        onSubmit={async (event) => {
          event.preventDefault();
          const problem = editing ? undefined : linkNameProblem(form.linkName);
          if (problem) {
            setError(new ApiError(400, 'validation_failed', problem, [{ path: 'linkName', message: problem }]));
            return;
          }
          setBusy(true);
          setError(undefined);
          try {
            const saved = editing && service ? await api.editService(service.linkName, toEdit(form, service)) : await api.createService(toCreate(form));
            navigate(`/services/${saved.linkName}`);
          } catch (reason) {
            setError(reason);
            setBusy(false);
          }
        }}
      >
        {named ? (
          <p className="alert alert-error" role="alert">
            {apiError?.code === 'link_name_taken' ? 'That link name is taken.' : 'Some fields need attention: see the messages under them.'}
          </p>
        ) : (
          <ErrorMessage error={error} />
        )}
        <fieldset>
          <legend>Service details</legend>
          <TextField
            label="Service Name"
            name="name"
            value={form.name}
            maxLength={50}
            onChange={(name) => set(editing || linkNameEdited ? { name } : { name, linkName: proposeLinkName(name) })}
            hint="The display name of the service, up to 50 characters."
            error={at('name')}
            required
            autoFocus
          />
          {editing ? (
            <p className="readonly-field">
              <span className="label">Service Link Name</span> <code>{form.linkName}</code>
            </p>
          ) : (
            <TextField
              label="Service Link Name"
              name="linkName"
              value={form.linkName}
              maxLength={50}
              onChange={(linkName) => (set({ linkName }), setLinkNameEdited(linkName !== ''))}
              hint="Begins with a lowercase letter; lowercase letters, digits and underscores, up to 50. It never changes."
              error={at('linkName')}
              required
            />
          )}
          <SelectField<AuthType>
            label="Authentication Type"
            name="authType"
            value={form.authType}
            disabled={editing}
            onChange={(authType) => set({ authType })}
            options={[
              { value: 'api_key', label: 'API Key' },
              { value: 'basic', label: 'Basic' },
              { value: 'oauth1', label: 'OAuth 1' },
              { value: 'oauth2', label: 'OAuth 2' },
            ]}
            error={at('authType')}
          />
          <TextField
            label="API base URL"
            name="baseUrl"
            type="url"
            value={form.baseUrl}
            onChange={(baseUrl) => set({ baseUrl })}
            hint="Where calls through the connections go, such as https://api.example.com. Credentials are sent to this host only."
            error={at('baseUrl')}
            placeholder="https://api.example.com"
          />
        </fieldset>

        {form.authType === 'api_key' && (
          <fieldset>
            <legend>Parameters</legend>
            <p className="hint">Each key the service expects. You will type their values when you connect. {editing && 'Parameters can be added or edited, not deleted.'}</p>
            {at('apiKey.params') && !form.params.some((_, index) => at(`apiKey.params.${index}`)) && (
              <p className="field-error" role="alert">
                {at('apiKey.params')}
              </p>
            )}
            {form.params.map((param, index) => {
              const change = (patch: Partial<Param>) => set({ params: form.params.map((item, i) => (i === index ? { ...item, ...patch } : item)) });
              return (
                <div key={index} className="row-group" role="group" aria-label={`Parameter ${index + 1}`}>
                  <TextField label="Actual Parameter" name={`params.${index}.name`} value={param.name} onChange={(name) => change({ name })} error={at(`apiKey.params.${index}.name`)} placeholder="api_key" required />
                  <TextField label="Parameter Display Name" name={`params.${index}.displayName`} value={param.displayName} onChange={(displayName) => change({ displayName })} error={at(`apiKey.params.${index}.displayName`)} placeholder="API key" required />
                  <SelectField<ParamType> label="Param Type" name={`params.${index}.paramType`} value={param.paramType} options={PARAM_TYPES} onChange={(paramType) => change({ paramType })} error={at(`apiKey.params.${index}.paramType`)} />
                  {!param.existing && form.params.length > 1 && (
                    <button type="button" className="button button-small row-remove" onClick={() => set({ params: form.params.filter((_, i) => i !== index) })}>
                      Remove parameter {index + 1}
                    </button>
                  )}
                </div>
              );
            })}
            <button type="button" className="button" onClick={() => set({ params: [...form.params, { name: '', displayName: '', paramType: form.params.at(-1)?.paramType ?? 'header' }] })}>
              + Add Parameter
            </button>
          </fieldset>
        )}

        {form.authType === 'basic' && (
          <Notice>
            Basic needs nothing more here: whoever connects types a username and password, sent as the header <code>Authorization: Basic base64(username:password)</code>.
          </Notice>
        )}

        {form.authType === 'oauth1' && (
          <fieldset>
            <legend>OAuth 1 details</legend>
            <TextField label="Consumer Key" name="oauth1.consumerKey" value={form.oauth1.consumerKey} onChange={(consumerKey) => setO1({ consumerKey })} error={at('oauth1.consumerKey')} required />
            <TextField label="Consumer Secret" name="oauth1.consumerSecret" type="password" value={form.oauth1.consumerSecret} onChange={(consumerSecret) => setO1({ consumerSecret })} hint={secretHint} error={at('oauth1.consumerSecret')} required={!editing} />
            <TextField label="Request Token URL" name="oauth1.requestTokenUrl" type="url" value={form.oauth1.requestTokenUrl} onChange={(requestTokenUrl) => setO1({ requestTokenUrl })} error={at('oauth1.requestTokenUrl')} required />
            <TextField label="Authorize URL" name="oauth1.authorizeUrl" type="url" value={form.oauth1.authorizeUrl} onChange={(authorizeUrl) => setO1({ authorizeUrl })} error={at('oauth1.authorizeUrl')} required />
            <TextField label="Access Token URL" name="oauth1.accessTokenUrl" type="url" value={form.oauth1.accessTokenUrl} onChange={(accessTokenUrl) => setO1({ accessTokenUrl })} error={at('oauth1.accessTokenUrl')} required />
            <SelectField<ParamType> label="Param Type" name="oauth1.paramType" value={form.oauth1.paramType} options={PARAM_TYPES} onChange={(paramType) => setO1({ paramType })} error={at('oauth1.paramType')} />
          </fieldset>
        )}

        {form.authType === 'oauth2' && (
          <fieldset>
            <legend>OAuth 2 details</legend>
            <SelectField
              label="Grant Type"
              name="oauth2.grantType"
              value={form.oauth2.grantType}
              disabled={editing}
              options={[
                { value: 'authorization_code', label: 'Authorization code' },
                { value: 'client_credentials', label: 'Client credentials' },
              ]}
              onChange={(grantType) => setO2({ grantType })}
              error={at('oauth2.grantType')}
            />
            <TextField label="Client ID" name="oauth2.clientId" value={form.oauth2.clientId} onChange={(clientId) => setO2({ clientId })} error={at('oauth2.clientId')} required />
            <TextField label="Client Secret" name="oauth2.clientSecret" type="password" value={form.oauth2.clientSecret} onChange={(clientSecret) => setO2({ clientSecret })} hint={secretHint} error={at('oauth2.clientSecret')} required={!editing} />
            {form.oauth2.grantType === 'authorization_code' && (
              <TextField label="Authorize URL" name="oauth2.authorizeUrl" type="url" value={form.oauth2.authorizeUrl} onChange={(authorizeUrl) => setO2({ authorizeUrl })} error={at('oauth2.authorizeUrl')} required />
            )}
            <TextField label="Access Token URL" name="oauth2.accessTokenUrl" type="url" value={form.oauth2.accessTokenUrl} onChange={(accessTokenUrl) => setO2({ accessTokenUrl })} error={at('oauth2.accessTokenUrl')} required />
            <TextField label="Refresh Token URL" name="oauth2.refreshTokenUrl" type="url" value={form.oauth2.refreshTokenUrl} onChange={(refreshTokenUrl) => setO2({ refreshTokenUrl })} hint="When the service refreshes tokens elsewhere than its Access Token URL." error={at('oauth2.refreshTokenUrl')} />
            <SelectField
              label="Param Type"
              name="oauth2.paramType"
              value={form.oauth2.paramType}
              options={[
                { value: 'query', label: 'Query string' },
                { value: 'header', label: 'Header' },
              ]}
              onChange={(paramType) => setO2({ paramType })}
              error={at('oauth2.paramType')}
            />
            <div className="scopes">
              <p className="label">Scopes</p>
              <p className="hint">The permissions a connection may ask for. {editing && 'Scopes can be added, not edited or deleted.'}</p>
              {at('oauth2.scopes') && !form.oauth2.scopes.some((_, index) => at(`oauth2.scopes.${index}`)) && (
                <p className="field-error" role="alert">
                  {at('oauth2.scopes')}
                </p>
              )}
              {form.oauth2.scopes.map((scope, index) => {
                const change = (patch: Partial<Scope>) => setO2({ scopes: form.oauth2.scopes.map((item, i) => (i === index ? { ...item, ...patch } : item)) });
                return (
                  <div key={index} className="row-group" role="group" aria-label={`Scope ${index + 1}`}>
                    <TextField label="Scope" name={`oauth2.scopes.${index}.name`} value={scope.name} onChange={(name) => change({ name })} error={at(`oauth2.scopes.${index}.name`)} placeholder="contacts.read" required />
                    <TextField label="Scope Display Name" name={`oauth2.scopes.${index}.displayName`} value={scope.displayName} onChange={(displayName) => change({ displayName })} error={at(`oauth2.scopes.${index}.displayName`)} placeholder="Read contacts" />
                    {!scope.existing && (
                      <button type="button" className="button button-small row-remove" onClick={() => setO2({ scopes: form.oauth2.scopes.filter((_, i) => i !== index) })}>
                        Remove scope {index + 1}
                      </button>
                    )}
                  </div>
                );
              })}
              <button type="button" className="button" onClick={() => setO2({ scopes: [...form.oauth2.scopes, { name: '', displayName: '' }] })}>
                + Add Scope
              </button>
            </div>
            <SelectField
              label="Scope Delimiter"
              name="oauth2.scopeDelimiter"
              value={form.oauth2.scopeDelimiter}
              disabled={editing}
              options={[
                { value: 'comma', label: 'Comma (,)' },
                { value: 'space', label: 'Space' },
                { value: 'plus', label: 'Plus (+)' },
              ]}
              onChange={(scopeDelimiter) => setO2({ scopeDelimiter })}
              hint="How the service expects several scopes to be separated. Comma when not said."
              error={at('oauth2.scopeDelimiter')}
            />
          </fieldset>
        )}

        {oauth && (
          <CallbackUrls
            service={service ?? { callbackUrls: callbackUrls?.length ? callbackUrls : [{ region: null, url: `${location.origin}/v1/${oauth === 'oauth1' ? 'oauth1' : 'oauth'}/callback` }] }}
          />
        )}

        {editing && (
          <Notice kind={revokes > 0 ? 'warning' : 'info'}>
            <span data-testid="revoke-count">
              {revokes === 0
                ? 'No connection uses this service: saving revokes nothing.'
                : `Saving revokes ${revokes === 1 ? 'the 1 connection' : `all ${revokes} connections`} of this service: ${revokes === 1 ? 'it has' : 'they have'} to be connected again.`}
            </span>
          </Notice>
        )}
        <div className="actions">
          <Link to={editing ? `/services/${props.linkName}` : '/new/custom'} className="button">
            Cancel
          </Link>
          <button type="submit" className="button button-primary" disabled={busy}>
            {editing ? 'Update' : 'Create Service'}
          </button>
        </div>
      </form>
    </>
  );
}
