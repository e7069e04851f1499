/**
 * Drawing the supervision overlay on a camera view: the policy's VISIBLE OBJECTS boxes mapped
 * from its input grid back onto this frame, and the ghost of the queued chunk (the gripper tip's
 * path). Canvas 2D only; the geometry lives in main/common/boxes.ts (tested).
 */
import type { ActionPlan, BoxGrid } from '../../../main/common/contract';
import { boxColour, gridBoxToFrame, parseVisibleObjects } from '../../../main/common/boxes';

export interface OverlayInput {
  /** Frame size in pixels (what the boxes and the path map onto). */
  frameW: number;
  frameH: number;
  /** Overlay canvas pixels per frame pixel. */
  scale: number;
  visibleObjects?: string;
  grid?: BoxGrid;
  /** The boxes are not what the arm is executing (drawn dashed and faint). */
  stale: boolean;
  plan?: ActionPlan;
  /** 'expert' or 'policy': the label prefix of the boxes. */
  who: string;
}

/** An × of half-size r at (x, y), in the current stroke style: a step overtaken before its chunk landed. */
export function drawCross(ctx: CanvasRenderingContext2D, x: number, y: number, r: number): void {
  ctx.beginPath();
  ctx.moveTo(x - r, y - r);
  ctx.lineTo(x + r, y + r);
  ctx.moveTo(x - r, y + r);
  ctx.lineTo(x + r, y - r);
  ctx.stroke();
}

export function drawOverlay(ctx: CanvasRenderingContext2D, o: OverlayInput): number {
  const s = o.scale;
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  let drawn = 0;
  if (o.grid !== undefined && o.visibleObjects !== undefined) {
    ctx.save();
    ctx.globalAlpha = o.stale ? 0.45 : 1;
    ctx.setLineDash(o.stale ? [4 * s, 3 * s] : []);
    ctx.lineWidth = Math.max(1.5, 0.8 * s);
    ctx.font = `600 ${Math.round(4.2 * s)}px system-ui, sans-serif`;
    ctx.textBaseline = 'bottom';
    for (const b of parseVisibleObjects(o.visibleObjects)) {
      const [x0, y0, x1, y1] = gridBoxToFrame(b.box, o.grid, o.frameW, o.frameH).map((v) => v * s) as [number, number, number, number];
      const c = boxColour(b.name);
      ctx.strokeStyle = c;
      ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
      const label = b.name;
      const tw = ctx.measureText(label).width + 4 * s;
      const th = 5.4 * s;
      const ly = y0 - th < 0 ? y1 + th : y0;
      ctx.fillStyle = 'rgba(0,0,0,0.65)';
      ctx.fillRect(x0, ly - th, tw, th);
      ctx.fillStyle = c;
      ctx.fillText(label, x0 + 2 * s, ly - 0.6 * s);
      drawn++;
    }
    ctx.restore();
  }
  const tp = o.plan?.tipPath;
  if (tp !== undefined && o.plan !== undefined) {
    const shadow = o.plan.role === 'shadow';
    const colour = shadow ? '#ffb347' : '#46e0ff';
    const pts = tp.points.map((p) => (p === null ? null : ([p[0] * o.frameW * s, p[1] * o.frameH * s] as [number, number])));
    const cur = tp.current === null ? null : ([tp.current[0] * o.frameW * s, tp.current[1] * o.frameH * s] as [number, number]);
    ctx.save();
    // the newest chunk's steps overtaken before it landed: grey crosses
    const ch = o.plan.chunk;
    if (ch !== undefined && tp.chunk !== undefined) {
      ctx.strokeStyle = 'rgba(200,205,215,0.8)';
      ctx.lineWidth = Math.max(1, 0.5 * s);
      tp.chunk.forEach((p, i) => {
        if (p === null || ch.offset + i >= 0) return;
        drawCross(ctx, p[0] * o.frameW * s, p[1] * o.frameH * s, 1.2 * s);
      });
    }
    ctx.lineWidth = Math.max(1.5, 0.7 * s);
    ctx.strokeStyle = colour;
    ctx.setLineDash([3 * s, 2 * s]);
    ctx.beginPath();
    let pen = false;
    for (const p of [cur, ...pts]) {
      if (p === null) {
        pen = false;
        continue;
      }
      if (pen) ctx.lineTo(p[0], p[1]);
      else ctx.moveTo(p[0], p[1]);
      pen = true;
    }
    ctx.stroke();
    ctx.setLineDash([]);
    pts.forEach((p, i) => {
      if (p === null) return;
      const blended = (o.plan!.merged[i] ?? 1) > 1;
      ctx.beginPath();
      ctx.arc(p[0], p[1], (blended ? 1.6 : 1.1) * s, 0, Math.PI * 2);
      if (blended) {
        ctx.strokeStyle = colour;
        ctx.stroke();
      } else {
        ctx.fillStyle = colour;
        ctx.fill();
      }
    });
    if (cur !== null) {
      ctx.beginPath();
      ctx.arc(cur[0], cur[1], 2 * s, 0, Math.PI * 2);
      ctx.strokeStyle = '#ffffff';
      ctx.stroke();
    }
    const end = [...pts].reverse().find((p) => p !== null);
    if (end !== undefined && end !== null) {
      ctx.font = `600 ${Math.round(4 * s)}px system-ui, sans-serif`;
      ctx.fillStyle = colour;
      ctx.fillText(shadow ? 'policy (shadow)' : `next ${pts.length}`, end[0] + 3 * s, end[1]);
    }
    ctx.restore();
  }
  return drawn;
}
