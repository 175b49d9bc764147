#!/usr/bin/env python3
"""Exploration for the pulsatile flag on a noisier scanner (docs/flags.md, "Another scanner"):
do the band measurements separate the renders with and without the cardiac-motion artifact
better after a light smoothing? On the paired study cohorts of `tools/flag_quality_study.py`
(healthy patients only, truth masks for heart, lung and left lung, so this measures the
image signal, not the detector's anatomy):

  python tools/flag_noise_probe.py WORK PROFILE_SUFFIX SEEDS
  e.g. tools/flag_noise_probe.py /tmp/flag-study-b -scanner-b 41,42,43
       tools/flag_noise_probe.py /tmp/flag-study "" 21,22,23

Per slice with at least 30 cm2 of heart: band = left lung (eroded 2 px) within 20 mm of the
heart, reference = lung over 40 mm from it. `spread` = median absolute deviation in the band
over the reference's; `dark` = share of band pixels more than 3 robust standard deviations of
the reference below the lung median, over the reference's share; each the upper quartile over
slices. Printed: area under the ROC curve between the renders, on the raw image and after a
Gaussian (sigma 1 or 2 px) or 5x5 box filter. Development tool only.
"""
import sys, csv, json, numpy as np, pydicom
from safetensors.numpy import load_file
from scipy import ndimage as ndi
from sklearn.metrics import roc_auc_score
from concurrent.futures import ProcessPoolExecutor
def load(d, pid):
    rows=sorted((r for r in csv.DictReader(open(f"{d}/slices.csv")) if r["patient_id"]==pid), key=lambda r:int(r["slice_index"]))
    v=[]
    for r in rows:
        ds=pydicom.dcmread(f"{d}/{r['file']}")
        v.append(ds.pixel_array.astype(np.float32)*float(ds.RescaleSlope)+float(ds.RescaleIntercept))
    return np.stack(v), float(ds.PixelSpacing[0])
def feat(args):
    root,tag,seed,art,pid=args
    v,px=load(f"{root}/cohort-{seed}-a{art}{tag}",pid)
    lab=load_file(f"{root}/cohort-{seed}-a1{tag}/truth/{pid}.safetensors")["labels"]
    out={}
    for name,f in (("raw",lambda x:x),("g1",lambda x:ndi.gaussian_filter(x,1.0)),("g2",lambda x:ndi.gaussian_filter(x,2.0)),("box5",lambda x:ndi.uniform_filter(x,5))):
        vals=[]; darks=[]
        for k in range(len(v)):
            heart=(lab[k]&4)>0
            if heart.sum()*px*px<3000: continue
            lung=(lab[k]&1)>0; left=(lab[k]&64)>0
            lung_e=ndi.binary_erosion(lung,iterations=2)
            d=ndi.distance_transform_edt(~heart)*px
            band=lung_e&left&(d<=20); ref=lung_e&(d>40)
            if band.sum()<50 or ref.sum()<200: continue
            x=f(v[k])
            b=x[band]; r=x[ref]
            mad=lambda a: np.median(np.abs(a-np.median(a)))+1e-3
            vals.append(mad(b)/mad(r))
            med=np.median(x[lung_e])
            thr=3*1.4826*mad(r)
            darks.append(((b<med-thr).mean()+1e-3)/((r<med-thr).mean()+1e-3))
        out[name]=(float(np.percentile(vals,75)) if vals else np.nan, float(np.percentile(darks,75)) if darks else np.nan)
    return (seed,art,pid,out)
if __name__=="__main__":
    root,tag,seeds=sys.argv[1],sys.argv[2],[int(x) for x in sys.argv[3].split(",")]
    todo=[]
    for s in seeds:
        for r in csv.DictReader(open(f"{root}/cohort-{s}-a1{tag}/manifest.csv")):
            if r["label"]=="healthy":
                for a in (0,1): todo.append((root,tag,s,a,r["patient_id"]))
    with ProcessPoolExecutor(1) as ex: res=list(ex.map(feat,todo))
    y=[r[1] for r in res]
    for name in res[0][3]:
        for j,fn in enumerate(("spread","dark")):
            x=[r[3][name][j] for r in res]; x=[0 if not np.isfinite(a) else a for a in x]
            print(tag or "scanner-a", name, fn, "AUC %.3f"%roc_auc_score(y,x))
