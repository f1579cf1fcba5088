import { z } from 'zod';

const usd = z.number().min(0).max(1e9);

const money = (what: string) => usd.optional().describe(what);

const apiReference = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1 to 64 of A-Z, a-z, 0-9, ., _, : and -')
    .describe('The reference as panels name it, such as gpt-4o-mini.'),
  input_usd_per_million: usd.describe('Its price per million input (prompt) tokens, in USD.'),
  output_usd_per_million: usd.describe('Its price per million output tokens, in USD.'),
  as_of: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
    .describe('When the price was read from the vendor: list prices change.'),
});

const cost = z
  .strictObject({
    hardware: z
      .strictObject({
        capex_usd: money("What this node's server and GPUs cost to buy."),
        residual_usd: usd
          .default(0)
          .describe('What they will be worth at the end of the amortization.'),
        amortization_months: z
          .int()
          .min(1)
          .max(240)
          .default(48)
          .describe('Months over which the purchase is spread.'),
      })
      .prefault({})
      .describe('The purchase, amortized into a cost per hour.'),
    operations_usd_per_month: money("This node's share of operations labour per month."),
    facility_usd_per_month: money(
      'Rack space, cooling and colocation per month, where not in the PUE.',
    ),
    licences_usd_per_month: money(
      'Software licences per month (per-GPU enterprise licences, say).',
    ),
    energy: z
      .strictObject({
        price_usd_per_kwh: money('What a kWh costs at this site.'),
        pue: z
          .number()
          .min(1)
          .max(3)
          .default(1)
          .describe(
            "Power usage effectiveness: facility energy per IT energy. 1 counts the GPUs' own energy only; the industry average is about 1.56 (Uptime Institute, 2024).",
          ),
      })
      .prefault({})
      .describe('Energy: measured GPU energy x PUE x price.'),
    monthly_budget_usd: money(
      "What this node may spend a month (its share of a team's budget): LLMNodeSpendAboveBudget warns when it spends faster.",
    ),
    requests_per_task: z
      .number()
      .positive()
      .max(1e6)
      .default(1)
      .describe('Requests one task takes (an agent that calls the model 5 times per task: 5).'),
    api_references: z
      .array(apiReference)
      .max(20)
      .default([])
      .describe(
        'Cloud API prices to compare against, each {name, input_usd_per_million, output_usd_per_million, as_of}.',
      ),
  })
  .refine(
    (c) => c.hardware.capex_usd === undefined || c.hardware.residual_usd <= c.hardware.capex_usd,
    { message: 'must not exceed hardware.capex_usd', path: ['hardware', 'residual_usd'] },
  )
  .refine((c) => new Set(c.api_references.map((r) => r.name)).size === c.api_references.length, {
    message: 'each reference needs its own name',
    path: ['api_references'],
  });

export const costConfig = cost
  .prefault({})
  .describe('What the node costs. Nothing set, no cost series: the agent never makes up a price.');
