import { Module, type Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Keyring, Vault } from '@plugboard/vault';
import type { PlatformConfig } from './config';
import { PLATFORM_CONFIG } from './platform.module';

/**
 * The vault for apps that keep secrets; it needs the master key, which distributed mode requires of them. The key is
 * checked against the vault's canary here, so an app with the wrong key refuses to start (MasterKeyMismatchError).
 */
export const vaultProvider: Provider = {
  provide: Vault,
  useFactory: async (config: PlatformConfig, dataSource: DataSource) => {
    if (!config.PLUGBOARD_MASTER_KEY) throw new Error('PLUGBOARD_MASTER_KEY is required by this app: it keeps secrets in the vault');
    const vault = new Vault(Keyring.parse(config.PLUGBOARD_MASTER_KEY));
    await vault.checkMasterKey(dataSource.manager);
    return vault;
  },
  inject: [PLATFORM_CONFIG, DataSource],
};

/** The vault as a module: an app and the feature modules it imports (libs/webhooks) share its one instance. */
@Module({ providers: [vaultProvider], exports: [Vault] })
export class VaultModule {}
