import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AgentsController } from './agents.controller';
import { AgentsService } from './agents.service';
import { EnrollmentController } from '../enrollment/enrollment.controller';
import { EnrollmentService } from '../enrollment/enrollment.service';
import { FlowReportsController } from '../flowreports/flowreports.controller';
import { FlowReportsService } from '../flowreports/flowreports.service';
import { DistributionService } from '../distribution/distribution.service';
import { StateSource } from '../distribution/state-source';
import { PolicyCheckController } from '../policycheck/policycheck.controller';

/**
 * Everything about agents after the policy model: enrollment, the control channel and rule-set distribution,
 * certificates over the channel, revocation, flow reports, and the what-if policy check (it reads the same
 * compiled state the agents get).
 */
@Module({
  imports: [AuditModule],
  controllers: [AgentsController, EnrollmentController, FlowReportsController, PolicyCheckController],
  providers: [AgentsService, EnrollmentService, FlowReportsService, DistributionService, StateSource],
  exports: [AgentsService, DistributionService, StateSource],
})
export class AgentsModule {}
