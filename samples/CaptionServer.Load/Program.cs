using CaptionServer.Load;
var folder = args[0];
Directory.CreateDirectory(args[1]);
foreach (var f in TinyCaptioner.Train(folder, args[1]).Take(3)) Console.WriteLine(f);
