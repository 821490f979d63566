import sharp from 'sharp';
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
const p16 = new Uint16Array(4*4*1); for (let i=0;i<16;i++) p16[i]=i*4000+7;
const t = await sharp(p16,{raw:{width:4,height:4,channels:1}}).tiff().toBuffer(); console.log('tiff raw16', (await sharp(t).metadata()).depth);
const t2 = await sharp(p16,{raw:{width:4,height:4,channels:1}}).toColourspace('grey16').tiff().toBuffer(); console.log('tiff grey16', (await sharp(t2).metadata()).depth);
const dir='node_modules/emoji-datasource-twitter/img/twitter/64/';
const files = readdirSync(dir).slice(0,600).map(f=>readFileSync(dir+f));
for (const level of [6, 3, 1]) {
const t0=performance.now();
let bytes=0;
let inflight=[]; 
async function one(buf){
  const {data,info} = await sharp(buf).autoOrient().flatten({background:'#ffffff'}).resize(256,256,{fit:'cover'}).toColourspace('srgb').raw().toBuffer({resolveWithObject:true});
  createHash('sha256').update(data).digest('hex');
  const png = await sharp(data,{raw:{width:256,height:256,channels:3}}).png({compressionLevel:level}).toBuffer();
  const th = await sharp(data,{raw:{width:256,height:256,channels:3}}).resize(128,128).png({compressionLevel:level}).toBuffer();
  bytes+=png.length+th.length;
}
const q=[...files]; const workers=Array.from({length:6},async()=>{while(q.length){await one(q.shift());}});
await Promise.all(workers);
const dt=performance.now()-t0; console.log('level',level, (files.length/(dt/1000)).toFixed(0),'img/s', (bytes/files.length/1024).toFixed(1),'KiB/img');
}
