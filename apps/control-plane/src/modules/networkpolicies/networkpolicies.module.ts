import { Module } from '@nestjs/common';
import { NetworkPoliciesController } from './networkpolicies.controller';
import { NetworkPoliciesService } from './networkpolicies.service';

@Module({ controllers: [NetworkPoliciesController], providers: [NetworkPoliciesService], exports: [NetworkPoliciesService] })
export class NetworkPoliciesModule {}
