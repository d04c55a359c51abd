import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createPipelineApp } from '../../infra/pipeline-app';
import type { PipelineStack } from '../../infra/pipeline-stack';

/** Skips every NodejsFunction's esbuild run: unit tests check the template, CI's `cdk synth` the bundles. */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

/** The app as `cdk synth` builds it (feature flags, cdk-nag plugin), without bundling, in a fresh outdir. */
export function buildApp(context: Record<string, unknown> = {}): { app: App; stack: PipelineStack } {
  return createPipelineApp({
    outdir: mkdtempSync(path.join(os.tmpdir(), 'pipeline-synth-')),
    context: { ...SKIP_BUNDLING, ...context },
  });
}

export function synthTemplate(context: Record<string, unknown> = {}): Template {
  return Template.fromStack(buildApp(context).stack);
}

/** Synthesizes `app`; returns the rule names of the validation report when synth fails, `[]` when it passes. */
export function validationFailures(app: App): string[] {
  try {
    app.synth();
    return [];
  } catch (error) {
    const report = JSON.parse(readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations: { ruleName: string }[] }[];
    };
    const rules = report.pluginReports.flatMap((plugin) => plugin.violations.map((v) => v.ruleName));
    if (rules.length === 0) throw error;
    return rules;
  }
}

export type CfnResource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };

/** The one resource of `type` whose logical ID is `prefix` plus CDK's hash (construct ids are stable, hashes are not). */
export function resourceByPrefix(template: Template, type: string, prefix: string): [string, CfnResource] {
  const exact = new RegExp(`^${prefix}[0-9A-F]{8}$`);
  const matches = Object.entries(template.findResources(type) as Record<string, CfnResource>).filter(([id]) =>
    exact.test(id),
  );
  if (matches.length !== 1) {
    throw new Error(
      `expected one ${type} with logical id ${prefix}…, found ${matches.map(([id]) => id).join(', ') || 'none'}`,
    );
  }
  return matches[0] as [string, CfnResource];
}

/** Logical IDs that an intrinsic value refers to (Ref, Fn::GetAtt), at any depth. */
export function referencedLogicalIds(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedLogicalIds);
  if (value === null || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  if (typeof record.Ref === 'string') return [record.Ref];
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return [getAtt[0]];
  return Object.values(record).flatMap(referencedLogicalIds);
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

export function asList<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}
